using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Ownership;
using Streaming.Projections.Tail;
using Streaming.Promoter.Approvals;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Fleet;
using Streaming.Promoter.Overrides;
using Streaming.Promoter.Policies;
using Streaming.Promoter.Publishing;
using Streaming.Promoter.Shadows;

namespace Streaming.Promoter;

public static class PromoterExtensions
{
    /// <summary>Where several Promoters are told to share the log's partitions (<see cref="OwnershipOptions"/>).</summary>
    public const string OwnershipSection = "Promoter:Ownership";

    /// <summary>
    /// The Promoter: its policy folder, and folds on the process's tail: decisions, shadow policies, and a relay of
    /// recorded phase changes per transport (Kafka; the MassTransit bus too when it is configured).
    /// </summary>
    public static IHostApplicationBuilder AddPromoter(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSchemaMigrations(PromoterSchema.Migrations);
        services.AddOptions<PromoterOptions>().BindConfiguration(PromoterOptions.Section);
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<PromoterOptions>>().Value);
        services.TryAddSingleton(TimeProvider.System);
        // Control streams are written to their home, shard 0's store, whichever shard this Promoter serves.
        services.AddSingleton(sp => new PolicyPublisher(sp.GetRequiredService<ControlStore>().Streams, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<PolicyDirectory>();
        services.AddSingleton<OverrideWriter>();
        services.AddSingleton(sp => new FleetWriter(sp.GetRequiredService<ControlStore>().Streams, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new PauseWriter(sp.GetRequiredService<ControlStore>().Streams, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => DecisionMetrics.Observe(new DecisionCounters(), sp.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton<PhaseChangeFeed>();
        services.AddSingleton<ApprovalGauge>();
        services.AddSingleton(sp => new DecisionFold(
            sp.GetRequiredService<NpgsqlDataSource>(),
            new DecisionEngine(new ActivePolicies(sp.GetRequiredService<ILogger<ActivePolicies>>()), new KnownIssues(), sp.GetRequiredService<ILogger<DecisionEngine>>())
            {
                Admissions = AdmissionModeOf(builder.Configuration, sp.GetRequiredService<PromoterOptions>()),
            },
            sp.GetRequiredService<EventStreams>(),
            sp.GetRequiredService<DecisionCounters>(),
            sp.GetRequiredService<ILogger<DecisionFold>>(),
            sp.GetRequiredService<PhaseChangeFeed>(),
            sp.GetRequiredService<ApprovalGauge>())
        {
            ControlHome = sp.GetRequiredService<ControlStore>() is { IsLocal: false } home ? home.Streams : null,
        });
        // A decision waits for no state write: the states (serialized first) are written beside the fold.
        services.AddLogFold(sp => new BufferedFold<JobLifecycle>(
            sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<DecisionFold>(), Rarely(sp) with { WriteAside = true },
            sp.GetRequiredService<ILogger<DecisionFold>>()));
        services.AddLogFold(sp => new ShadowPolicies(
            sp.GetRequiredService<NpgsqlDataSource>(),
            new BufferedFold<ShadowJob>(
                sp.GetRequiredService<NpgsqlDataSource>(),
                new ShadowFold(
                    sp.GetRequiredService<NpgsqlDataSource>(),
                    new ActivePolicies(sp.GetRequiredService<ILogger<ActivePolicies>>(), PolicyPublished.ShadowStreamPrefix),
                    sp.GetRequiredService<ControlStore>().Streams,
                    sp.GetRequiredService<ILogger<ShadowFold>>()),
                Rarely(sp),
                sp.GetRequiredService<ILogger<ShadowFold>>()),
            sp.GetRequiredService<ILogger<ShadowPolicies>>()));
        services.AddSingleton(sp => new KafkaPhaseChangeTransport(
            sp.GetRequiredService<KafkaOptions>(), sp.GetRequiredService<PromoterOptions>().RelayPublishTimeout));
        services.AddPhaseChangeRelay(PhaseChangeRelay.CheckpointName, sp => sp.GetRequiredService<KafkaPhaseChangeTransport>());
        builder.AddPhaseChangeBus();
        builder.AddPartitionOwnership(OwnershipSection, "promoter", "streaming-promoter");
        services.AddHostedService<PromoterWorker>();
        return builder;
    }

    /// <summary>
    /// Who decides the waves' slots and the circuit breakers (<see cref="PromoterOptions.Admissions"/>): with <c>auto</c>, the owner of the control
    /// partition when this Promoter shares the log with others or the store has several shards, else this Promoter.
    /// </summary>
    public static AdmissionMode AdmissionModeOf(IConfiguration configuration, PromoterOptions options) => options.Admissions.ToLowerInvariant() switch
    {
        "local" => AdmissionMode.Local,
        "owner" => AdmissionMode.Owner,
        "auto" or "" => configuration.GetValue<bool>($"{OwnershipSection}:Enabled") || (configuration.GetValue<int?>(Streaming.Hosting.ServiceDefaults.ShardsKey) ?? 1) > 1
            ? AdmissionMode.Owner
            : AdmissionMode.Local,
        var other => throw new OptionsValidationException(PromoterOptions.Section, typeof(PromoterOptions), [$"Promoter:Admissions must be auto, local or owner, not {other}"]),
    };

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
        builder.Services.AddPhaseChangeRelay(BusPhaseChangeTransport.CheckpointName, sp => sp.GetRequiredService<BusPhaseChangeTransport>());
    }

    // The Promoter's states are for restarts only, so they are written rarely under load; its decisions are appended
    // every batch. A log quiet for a second has no load to spare them: they are written then, and the checkpoint with them.
    static FoldOptions Rarely(IServiceProvider services)
    {
        var every = services.GetRequiredService<PromoterOptions>().StateWriteInterval;
        return every > TimeSpan.Zero
            ? new FoldOptions { FlushInterval = every, MaxFlushInterval = every * 6, EventsPerChangedState = 20, QuietAfter = every < QuietLog ? every : QuietLog }
            : throw new InvalidOperationException($"Promoter:StateWriteInterval must be positive, not {every}");
    }

    static readonly TimeSpan QuietLog = TimeSpan.FromSeconds(1);
}
