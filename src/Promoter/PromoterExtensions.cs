using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Microsoft.Extensions.Options;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Lifecycle;
using Streaming.Projections;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Fleet;
using Streaming.Promoter.Overrides;
using Streaming.Promoter.Policies;
using Streaming.Promoter.Shadows;
using Streaming.Contracts.History;
using Streaming.Promoter.Publishing;

namespace Streaming.Promoter;

public static class PromoterExtensions
{
    public static IHostApplicationBuilder AddPromoter(this IHostApplicationBuilder builder)
    {
        builder.Services.AddStreamingWakeups();
        builder.Services.AddOptions<PromoterOptions>().BindConfiguration(PromoterOptions.Section);
        builder.Services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<PromoterOptions>>().Value);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<PolicyPublisher>();
        builder.Services.AddSingleton<PolicyDirectory>();
        builder.Services.AddSingleton<OverrideWriter>();
        builder.Services.AddSingleton<FleetWriter>();
        builder.Services.AddSingleton(sp => DecisionMetrics.Observe(new DecisionCounters(), sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        builder.Services.AddSingleton(sp => new DecisionFold(
            sp.GetRequiredService<NpgsqlDataSource>(),
            new DecisionEngine(
                new ActivePolicies(sp.GetRequiredService<ILoggerFactory>().CreateLogger<ActivePolicies>()),
                new KnownIssues(),
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<DecisionEngine>()),
            sp.GetRequiredService<EventStreams>(),
            sp.GetRequiredService<DecisionCounters>(),
            sp.GetRequiredService<ILogger<DecisionFold>>()));
        builder.Services.AddSingleton(sp => new BufferedFold<JobLifecycle>(
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<DecisionFold>(),
            sp.GetRequiredService<LogWakeups>().WaitAsync,
            // The promoter's state is for restarts only, so it is written rarely; its decisions are appended every batch.
            new FoldOptions { MaxFlushInterval = TimeSpan.FromSeconds(30), EventsPerChangedState = 20 },
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<DecisionFold>()));
        builder.Services.AddSingleton(sp => new ShadowFold(
            sp.GetRequiredService<NpgsqlDataSource>(),
            new ActivePolicies(sp.GetRequiredService<ILoggerFactory>().CreateLogger<ActivePolicies>(), PolicyPublished.ShadowStreamPrefix),
            sp.GetRequiredService<EventStreams>(),
            sp.GetRequiredService<ILogger<ShadowFold>>()));
        builder.Services.AddSingleton(sp => new ShadowRunner(
            sp.GetRequiredService<NpgsqlDataSource>(),
            () => new BufferedFold<ShadowJob>(
                sp.GetRequiredService<NpgsqlDataSource>(),
                sp.GetRequiredService<ShadowFold>(),
                sp.GetRequiredService<LogWakeups>().WaitAsync,
                new FoldOptions { MaxFlushInterval = TimeSpan.FromSeconds(30), EventsPerChangedState = 20 },
                sp.GetRequiredService<ILoggerFactory>().CreateLogger<ShadowFold>()),
            sp.GetRequiredService<PromoterOptions>().PolicyScanInterval,
            sp.GetRequiredService<ILogger<ShadowRunner>>()));
        builder.Services.AddSingleton(sp => new PhaseChangeRelay(
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<KafkaOptions>(),
            sp.GetRequiredService<LogWakeups>().WaitAsync,
            sp.GetRequiredService<ILogger<PhaseChangeRelay>>()));
        builder.Services.AddHostedService<PromoterWorker>();
        return builder;
    }
}
