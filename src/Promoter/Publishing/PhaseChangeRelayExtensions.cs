using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Projections.Tail;

namespace Streaming.Promoter.Publishing;

public static class PhaseChangeRelayExtensions
{
    /// <summary>
    /// A relay of every recorded phase change to <paramref name="transport"/>, as a fold of the process's tail with its
    /// own checkpoint <paramref name="checkpointName"/> (moved only after the broker confirms). Each transport gets one, and
    /// is handed the decisions this process commits as they commit.
    /// </summary>
    public static IServiceCollection AddPhaseChangeRelay(
        this IServiceCollection services, string checkpointName, Func<IServiceProvider, IPhaseChangeTransport> transport) =>
        services.AddLogFold(sp => new PhaseChangeRelay(
            sp.GetRequiredService<NpgsqlDataSource>(),
            transport(sp),
            checkpointName,
            sp.GetRequiredService<ILogger<PhaseChangeRelay>>(),
            sp.GetService<PhaseChangeFeed>()?.Subscribe()));
}
