using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Api;
using Streaming.Contracts.Signals;
using Streaming.Hosting;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>
/// The real pipeline (PostgreSQL, Kafka-protocol brokers, Ingest, Projector, Promoter) with the API and dashboards served
/// by Kestrel on a free port, and a small fleet's history in it: a job promoted to reverse shadow, a stuck one, and one
/// whose labels carry markup and a password.
/// </summary>
public sealed class SurfaceSystem : IAsyncLifetime
{
    public const string Promoted = "web-promoted";
    public const string Stuck = "web-stuck";
    public const string Hostile = "web-hostile";
    public const string HostileLabel = "<script>alert(1)</script>";
    public const string Password = "hunter2-do-not-show";
    public const string WebhookToken = "T0-webhook-token-do-not-show";

    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    readonly string _folder = Directory.CreateTempSubdirectory("streaming-surface-").FullName;
    WebApplication? _api;

    // The system's hosts name their meters alike and apart from every other test host's (HostMeterFactory), so the API
    // exports the services' metrics and no other test's host stopping can silence them.
    const string MeterName = "Streaming.Surface";

    public Pipeline Pipeline { get; } = new(new Dictionary<string, string?> { ["Telemetry:MeterName"] = MeterName });

    public Uri BaseUrl { get; private set; } = null!;

    public string TokensFile => Path.Combine(_folder, "api-tokens.json");

    public string KeyRingFolder => Path.Combine(_folder, "api-keys");

    /// <summary>What the API's own code logged (categories <c>Streaming.*</c>, Information and above).</summary>
    public RecordingLogger Logs { get; private set; } = new();

    public IServiceProvider Services => _api!.Services;

    public IReadOnlyDictionary<string, string> Tokens { get; private set; } = new Dictionary<string, string>();

    public NpgsqlDataSource Database => Pipeline.Database;

    public async Task InitializeAsync()
    {
        await Pipeline.InitializeAsync();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:EventStore"] = Pipeline.ConnectionString,
            ["Kafka:BootstrapServers"] = Pipeline.Kafka.BootstrapServers,
            ["Kafka:CreateTopics"] = "false",
            ["Api:TokensFile"] = TokensFile,
            ["Api:KeyRingFolder"] = KeyRingFolder,
            // Tests stand for distinct clients (and a TLS-terminating proxy) with X-Forwarded-For/-Proto from loopback.
            ["Api:ForwardedHeaders"] = "true",
            ["Telemetry:MeterName"] = MeterName,
            ["Serilog:MinimumLevel:Default"] = "Warning",
            // A webhook nobody listens on (the discard port): its deliveries wait, retried, with their last error.
            ["Notifications:CheckInterval"] = "00:00:01",
            ["Notifications:Webhooks:0:Name"] = "ops",
            ["Notifications:Webhooks:0:Url"] = $"http://127.0.0.1:9/hooks/{WebhookToken}",
            ["Notifications:Delivery:FirstRetryDelay"] = "00:00:00.100",
            ["Notifications:Delivery:MaxRetryDelay"] = "00:00:01",
            ["Notifications:Delivery:MaxAttempts"] = "100000",
        });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        builder.AddApi();
        var recording = new RecordingLoggerProvider();
        Logs = recording.Logger;
        builder.Services.AddSingleton<ILoggerFactory>(_ => LoggerFactory.Create(logging => logging
            .AddFilter((category, level) => category?.StartsWith("Streaming", StringComparison.Ordinal) == true && level >= LogLevel.Information)
            .AddProvider(recording)));
        _api = builder.Build();
        _api.MapApi();
        await _api.StartAsync();
        BaseUrl = new Uri(_api.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        Tokens = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(TokensFile))!;
        await SeedAsync();
    }

    async Task SeedAsync()
    {
        using var producer = SignalFactory.Producer(Pipeline.Kafka.BootstrapServers);
        var hostileLabels = new Dictionary<string, string> { ["team"] = HostileLabel, ["db_password"] = Password };
        producer.Produce(SignalFactory.Minutes(Promoted, 0, 40, "shadow", SignalFactory.Good)
            .Concat(SignalFactory.Minutes(Stuck, 0, 100, "shadow", SignalFactory.BadChecksums))
            .Concat(SignalFactory.Minutes(Hostile, 0, 10, "shadow", SignalFactory.Good).Select(s => s with { Labels = hostileLabels })));
        await Eventually.True(async () => await CountAsync("select count(*) from fleet.decisions where job_id = 'web-promoted'") == 1
            && await CountAsync("select count(*) from projections.job_states where job_id in ('web-promoted', 'web-stuck', 'web-hostile') and last_seq >= 10") == 3
            && await CountAsync("select count(*) from projections.job_states where job_id = 'web-promoted' and phase = 'reverse_shadow'") == 1
            && await CountAsync("select count(*) from projections.job_states where job_id = 'web-stuck' and 'stuck' = any(flags)") == 1,
            Timeout, "the seeded jobs to be projected and the promotion to reach the feed");
    }

    public async Task<long> CountAsync(string sql)
    {
        await using var command = Database.CreateCommand(sql);
        try
        {
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            return -1;
        }
    }

    /// <summary>An HTTP client for the API, with a bearer token of <paramref name="role"/> (none: anonymous).</summary>
    public HttpClient Client(string? role = null, string? from = null)
    {
        var client = new HttpClient { BaseAddress = BaseUrl };
        if (from is not null)
        {
            client.DefaultRequestHeaders.Add("X-Forwarded-For", from);
        }
        if (role is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Tokens[role]);
        }
        return client;
    }

    public async Task DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.StopAsync();
            await _api.DisposeAsync();
        }
        await Pipeline.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
