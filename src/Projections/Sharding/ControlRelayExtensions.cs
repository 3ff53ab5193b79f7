using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Projections.Tail;

namespace Streaming.Projections.Sharding;

public static class ControlRelayExtensions
{
    /// <summary>A <see cref="ControlRelay"/> into the process's shard, which runs when that shard is not the control streams' home.</summary>
    public static IServiceCollection AddControlRelay(this IServiceCollection services) =>
        services.AddHostedService(sp => new ControlRelayService(
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<ControlStore>(),
            sp.GetRequiredService<IOptions<TailOptions>>().Value,
            sp.GetRequiredService<LoopHealth>(),
            sp.GetRequiredService<ILogger<ControlRelayService>>()));
}
