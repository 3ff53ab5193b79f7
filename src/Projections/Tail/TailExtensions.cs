using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Streaming.Hosting.Resilience;

namespace Streaming.Projections.Tail;

public static class TailExtensions
{
    /// <summary>
    /// The process's one <see cref="LogTail"/>, registered once however many services add folds to it: in the all-in-one
    /// process the Projector's and the Promoter's folds share it.
    /// </summary>
    public static IServiceCollection AddLogTail(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(LogTail)))
        {
            return services;
        }
        services.AddOptions<TailOptions>().BindConfiguration(TailOptions.Section)
            .Validate(o => o.IsValid, "Tail options are out of range")
            .ValidateOnStart();
        services.TryAddSingleton<LoopHealth>();
        services.AddSingleton(sp => new LogTail(
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetServices<ILogFold>(),
            sp.GetRequiredService<IOptions<TailOptions>>().Value,
            sp.GetRequiredService<LoopHealth>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.AddHostedService<LogTailService>();
        return services;
    }

    /// <summary>Adds a fold to the process's tail: one line per fold.</summary>
    public static IServiceCollection AddLogFold(this IServiceCollection services, Func<IServiceProvider, ILogFold> fold)
    {
        services.AddLogTail();
        services.AddSingleton(fold);
        return services;
    }
}
