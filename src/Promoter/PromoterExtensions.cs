using MassTransit;
using Microsoft.Extensions.Configuration;
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
using Streaming.Contracts.PhaseChanges;
using Streaming.Hosting.Resilience;
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
        builder.Services.AddSingleton(sp => new KafkaPhaseChangeTransport(
            sp.GetRequiredService<KafkaOptions>(), sp.GetRequiredService<PromoterOptions>().RelayPublishTimeout));
        builder.Services.AddSingleton(sp => Relay(sp, sp.GetRequiredService<KafkaPhaseChangeTransport>(), PhaseChangeRelay.CheckpointName));
        builder.AddPhaseChangeBus();
        builder.Services.AddHostedService<PromoterWorker>();
        return builder;
    }

    /// <summary>With <c>Bus:RabbitMqUrl</c> set, a second relay publishes every phase change on the MassTransit bus too.</summary>
    static void AddPhaseChangeBus(this IHostApplicationBuilder builder)
    {
        var bus = builder.Configuration.GetSection(BusOptions.Section).Get<BusOptions>() ?? new BusOptions();
        if (!bus.Enabled)
        {
            return;
        }
        var url = Uri.TryCreate(bus.RabbitMqUrl, UriKind.Absolute, out var parsed) && parsed.Scheme is "amqp" or "amqps" or "rabbitmq" or "rabbitmqs"
            ? parsed
            : throw new OptionsValidationException(BusOptions.Section, typeof(BusOptions), ["Bus:RabbitMqUrl must be an amqp://user:password@host:port/vhost URL"]);
        builder.Services.AddMassTransit(x => x.UsingRabbitMq((_, cfg) =>
        {
            cfg.Host(url, "streaming-promoter", h => h.PublisherConfirmation = true);
            cfg.Message<PhaseChangedMessage>(m => m.SetEntityName(bus.Exchange));
            cfg.Publish<PhaseChangedMessage>(p =>
            {
                p.ExchangeType = PhaseChangeBus.ExchangeType;
                p.Durable = true;
                p.AutoDelete = false;
            });
        }));
        builder.Services.AddSingleton(sp => new BusPhaseChangeTransport(
            sp.GetRequiredService<IBus>(), bus.Exchange, sp.GetRequiredService<PromoterOptions>().RelayPublishTimeout));
        builder.Services.AddSingleton(sp => Relay(sp, sp.GetRequiredService<BusPhaseChangeTransport>(), BusPhaseChangeTransport.CheckpointName));
    }

    static PhaseChangeRelay Relay(IServiceProvider services, IPhaseChangeTransport transport, string checkpointName) => new(
        services.GetRequiredService<NpgsqlDataSource>(),
        transport,
        checkpointName,
        services.GetRequiredService<LogWakeups>().WaitAsync,
        services.GetRequiredService<LoopHealth>(),
        services.GetRequiredService<ILogger<PhaseChangeRelay>>());
}
