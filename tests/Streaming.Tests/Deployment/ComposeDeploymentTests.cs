using System.Net;
using System.Text;
using Npgsql;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Contracts.Signals;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Deployment;

/// <summary>
/// docker-compose.yml brought up for real, on the images scripts/images.sh built, with the local override: signals from
/// outside (kcat, as a non-.NET job), the PhaseChanged they cause on Kafka and on the bus, the dashboards and /metrics;
/// then a service container restarted under load, and nothing lost or stored twice.
/// </summary>
[Collection(DeploymentCollection.Name)]
public sealed class ComposeDeploymentTests(ITestOutputHelper output) : IAsyncLifetime
{
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    ComposeProject? _project;

    public async Task InitializeAsync()
    {
        await Docker.RequireImagesAsync();
        await DebianPackages.RequireAsync(); // kcat
        _project = await ComposeProject.CreateAsync();
    }

    [Fact]
    public async Task The_compose_file_runs_the_pipeline_end_to_end_and_a_restarted_service_loses_and_duplicates_nothing()
    {
        var project = _project!;
        var succeeded = false;
        try
        {
            // Given the whole compose project up and every container healthy
            await project.ComposeAsync("up -d", TimeSpan.FromMinutes(5));
            await project.WaitHealthyAsync(Timeout);
            var kafka = $"127.0.0.1:{project.Port("KAFKA_PORT")}";
            var bus = new Uri($"amqp://{project.Setting("RABBITMQ_USER")}:{project.Setting("RABBITMQ_PASSWORD")}@127.0.0.1:{project.Port("RABBITMQ_PORT")}/");
            const string job = "compose-promoted-1";
            await using var observer = await BusObserver.StartAsync(bus, PhaseChangeBus.Exchange, project.Name + ".", [job]);

            // When a job reports 40 healthy minutes in shadow through kcat
            await Kcat.ProduceAsync(kafka, SignalFactory.Minutes(job, 0, 40, "shadow", SignalFactory.Good));

            // Then its promotion is published on Kafka and on the bus
            var changes = await Eventually.Get(() => Kcat.ReadPhaseChangesAsync(kafka), c => c.Any(m => m.JobId == job), Timeout, "a PhaseChanged on Kafka");
            var promotion = changes.First(m => m.JobId == job);
            Assert.Equal(("shadow", "reverse_shadow"), (promotion.From, promotion.To));
            await Eventually.Get(() => Task.FromResult(observer.For(job)), r => r.Count > 0, Timeout, "the PhaseChanged on the bus");
            Assert.Equal("reverse_shadow", observer.For(job)[0].To);

            // And the dashboards answer a signed-in viewer, and /metrics is scraped
            using var http = await project.ApiClientAsync("viewer");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/fleet")).StatusCode);
            var fleet = await http.GetAsync("/api/v1/fleet/health");
            Assert.Equal(HttpStatusCode.OK, fleet.StatusCode);
            var metrics = await Eventually.Get(() => http.GetStringAsync("/metrics"), m => m.Contains("streaming_fold_lag_events", StringComparison.Ordinal), Timeout, "the fold lag gauge on /metrics");
            Assert.Contains("db_client_operation_duration_seconds", metrics, StringComparison.Ordinal);

            // When Ingest's container is restarted while 30 jobs send 20 signals each
            await using var store = NpgsqlDataSource.Create(
                $"Host=127.0.0.1;Port={project.Port("POSTGRES_PORT")};Username={project.Setting("POSTGRES_USER")};Password={project.Setting("POSTGRES_PASSWORD")};Database={project.Setting("POSTGRES_DB")}");
            var jobs = Enumerable.Range(1, 30).Select(i => $"compose-restart-{i}").ToList();
            var batches = Enumerable.Range(0, 20)
                .Select(minute => jobs.Select(j => SignalFactory.Signal(j, minute + 1, SignalFactory.Start.AddMinutes(minute), "shadow", SignalFactory.Good)).ToList())
                .ToList();
            await Kcat.ProduceAsync(kafka, batches.Take(10).SelectMany(b => b));
            await Eventually.Get(() => CountSignalsAsync(store), n => n > 0, Timeout, "Ingest to store the first signals");
            var ingest = await project.ContainerAsync("ingest");
            var restart = Docker.CheckedAsync("docker", $"restart --time 10 {ingest}", TimeSpan.FromMinutes(2));
            await Kcat.ProduceAsync(kafka, batches.Skip(10).SelectMany(b => b));
            await restart;

            // Then every signal is stored exactly once, and Ingest is healthy again
            await Eventually.Get(() => CountSignalsAsync(store), n => n >= jobs.Count * 20, Timeout, "all 600 signals stored");
            await project.WaitHealthyAsync(Timeout, "ingest");
            Assert.Equal(jobs.Count * 20, await CountSignalsAsync(store));
            await using var duplicates = store.CreateCommand(
                "select count(*) - count(distinct (stream_id, seq)) from es.events where stream_id like 'compose-restart-%' and type = @type");
            duplicates.Parameters.AddWithValue("type", SignalRecorded.EventType);
            Assert.Equal(0L, (long)(await duplicates.ExecuteScalarAsync())!);
            succeeded = true;
        }
        finally
        {
            if (!succeeded)
            {
                output.WriteLine(await project.LogsAsync());
            }
        }
    }

    static async Task<long> CountSignalsAsync(NpgsqlDataSource store)
    {
        await using var command = store.CreateCommand("select count(*) from es.events where stream_id like 'compose-restart-%' and type = @type");
        command.Parameters.AddWithValue("type", SignalRecorded.EventType);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public Task DisposeAsync() => _project?.DisposeAsync().AsTask() ?? Task.CompletedTask;
}
