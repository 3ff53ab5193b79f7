using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Streaming.Api.Telemetry;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Projections.Tail;

namespace Streaming.Api.Notifications;

public static class NotificationExtensions
{
    /// <summary>
    /// Notifications: the fold that finds them in the log, the periodic rules, the outbox's delivery to webhooks, their
    /// metrics and queries. The options are checked here, so a bad webhook or rule stops the process at start, saying
    /// which (never showing a URL).
    /// </summary>
    public static IHostApplicationBuilder AddNotifications(this IHostApplicationBuilder builder)
    {
        if (builder.Configuration[$"{NotificationOptions.Section}:File"] is { Length: > 0 } file)
        {
            builder.Configuration.AddJsonFile(Path.GetFullPath(file), optional: false, reloadOnChange: false);
        }
        var options = builder.Configuration.GetSection(NotificationOptions.Section).Get<NotificationOptions>() ?? new NotificationOptions();
        var problems = options.Problems().ToList();
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(NotificationOptions.Section, typeof(NotificationOptions), problems);
        }
        var services = builder.Services;
        services.AddSchemaMigrations(NotificationSchema.Migrations);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<LoopHealth>();
        services.AddSingleton(options);
        services.AddSingleton<NotificationQueries>();
        services.AddSingleton<NotificationMetrics>();
        if (!options.Enabled)
        {
            return builder;
        }
        services.AddSingleton(new NotificationOutbox(options.Webhooks));
        services.AddSingleton<FiringConditions>();
        services.AddSingleton<NotificationFold>();
        services.AddLogFold(sp => new TransactionalFold(
            sp.GetRequiredService<NpgsqlDataSource>(), NotificationFold.CheckpointName, sp.GetRequiredService<NotificationFold>().HandleAsync));
        services.AddSingleton(_ => new WebhookSender(
            new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan },
            options.Delivery.Timeout));
        services.AddHostedService(sp => new NotificationChecks(
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<StoreShards>(),
            options,
            sp.GetRequiredService<NotificationOutbox>(),
            sp.GetRequiredService<FiringConditions>(),
            sp.GetRequiredService<NotificationMetrics>(),
            sp.GetService<PipelineSampler>(),
            sp.GetRequiredService<LoopHealth>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<NotificationChecks>>()));
        services.AddHostedService<WebhookDelivery>();
        return builder;
    }
}
