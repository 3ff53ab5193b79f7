using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streaming.Api.Fleet;
using Streaming.Api.Notifications;
using Streaming.Api.Policies;
using Streaming.Api.Telemetry;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Notifications;

/// <summary>
/// The notifications alone (their fold on a tail, the periodic rules, the delivery loop) hosted as a service is, against
/// a test's store, so a test can stop it and start another as a restarted process would. Logs of every start go to
/// <see cref="Logs"/>; <paramref name="services"/> adds to (or replaces) what it registers.
/// </summary>
public sealed class NotifyingProcess(
    string connectionString, string bootstrapServers, IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? services = null) : IAsyncDisposable
{
    IHost? _host;

    public RecordingLogger Logs { get; } = new();

    public async Task StartAsync()
    {
        var recording = new RecordingProvider(Logs);
        _host = ServiceHosts.Build(connectionString, bootstrapServers, builder =>
        {
            builder.AddNotifications();
            services?.Invoke(builder.Services);
            builder.Services.AddSingleton<ILoggerFactory>(_ => LoggerFactory.Create(logging => logging
                .AddFilter((category, level) => category?.StartsWith("Streaming", StringComparison.Ordinal) == true && level >= LogLevel.Debug)
                .AddProvider(recording)));
            return builder;
        }, settings);
        await _host.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
            _host = null;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    /// <summary>The API's sampler of the pipeline (dead letters, lags), which the rate rules read, registered as the API does.</summary>
    public static void SamplePipeline(IServiceCollection services)
    {
        services.AddSingleton<PolicyCatalog>();
        services.AddSingleton<FleetQueries>();
        services.AddSingleton<PipelineSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<PipelineSampler>());
    }

    sealed class RecordingProvider(RecordingLogger logger) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => logger;

        public void Dispose()
        {
        }
    }
}
