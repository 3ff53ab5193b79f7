using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Streaming.Contracts.Signals;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Deployment;

/// <summary>
/// docker-compose.yml over two PostgreSQL shards (docker-compose.shards.yml with its local override) brought up for real:
/// each job's signals and decisions are stored on the shard of its partition only, jobs of both shards are promoted by
/// their shard's Promoter and published on Kafka, and the API reads a job of either shard and sums the fleet over both.
/// </summary>
[Collection(DeploymentCollection.Name)]
public sealed class ComposeShardsTests(ITestOutputHelper output) : IAsyncLifetime
{
    const int Partitions = 12;
    static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    ComposeProject? _project;

    public async Task InitializeAsync()
    {
        await Docker.RequireImagesAsync();
        await DebianPackages.RequireAsync(); // kcat
        _project = await ComposeProject.CreateShardedAsync();
    }

    [Fact]
    public async Task Two_shards_store_each_job_on_the_shard_of_its_partition_and_promote_the_jobs_of_both()
    {
        var project = _project!;
        var succeeded = false;
        try
        {
            // Given the project up over two shards, every container healthy (shard 1's PostgreSQL, Projector and Promoter too)
            await project.ComposeAsync("up -d", TimeSpan.FromMinutes(5));
            await project.WaitHealthyAsync(Timeout);
            var kafka = $"127.0.0.1:{project.Port("KAFKA_PORT")}";
            await using var shard0 = Store(project, "POSTGRES_PORT");
            await using var shard1 = Store(project, "POSTGRES_SHARD1_PORT");

            // When six jobs of each shard (log partition p lives on shard p mod 2) report 40 healthy minutes in shadow
            var jobs = Enumerable.Range(1, 200).Select(i => $"compose-shard-{i}")
                .GroupBy(ShardOf).OrderBy(g => g.Key).SelectMany(g => g.Take(6)).ToList();
            Assert.Equal([6, 6], jobs.GroupBy(ShardOf).Select(g => g.Count()));
            await Kcat.ProduceAsync(kafka, jobs.SelectMany(job => SignalFactory.Minutes(job, 0, 40, "shadow", SignalFactory.Good)));

            // Then every job is promoted out of shadow, on Kafka
            var changes = await Eventually.Get(() => Kcat.ReadPhaseChangesAsync(kafka),
                c => jobs.All(job => c.Any(m => m.JobId == job)), Timeout, "a PhaseChanged on Kafka for every job of both shards");
            Assert.All(jobs, job => Assert.Contains(changes, m => m.JobId == job && (m.From, m.To) == ("shadow", "reverse_shadow")));

            // And each job's stream, signals and decision, is on its shard only
            foreach (var (store, shard) in new[] { (shard0, 0), (shard1, 1) })
            {
                var stored = await StreamsAsync(store);
                Assert.Equal(jobs.Where(j => ShardOf(j) == shard).Order(StringComparer.Ordinal), stored.Keys.Order(StringComparer.Ordinal));
                Assert.All(stored, s => Assert.True(s.Value.Signals == 40 && s.Value.Promotions >= 1, $"{s.Key}: {s.Value}"));
            }

            // And the API reads a job of either shard, and counts both shards' jobs in the fleet
            using var http = await project.ApiClientAsync("viewer");
            foreach (var job in new[] { jobs.First(j => ShardOf(j) == 0), jobs.First(j => ShardOf(j) == 1) })
            {
                var detail = await Eventually.Get(() => http.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{job}")!,
                    d => (string?)d!["assignedPhase"] == "reverse_shadow", Timeout, $"{job}'s projected phase");
                Assert.Equal(job, (string?)detail!["jobId"]);
            }
            await Eventually.Get(() => http.GetFromJsonAsync<JsonObject>("/api/v1/fleet/summary")!,
                s => (int)s!["totals"]!["jobs"]! == jobs.Count, Timeout, "the fleet summary to count the jobs of both shards");
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

    public Task DisposeAsync() => _project?.DisposeAsync().AsTask() ?? Task.CompletedTask;

    static int ShardOf(string jobId) => Murmur2Partitioner.Partition(jobId, Partitions) % 2;

    static NpgsqlDataSource Store(ComposeProject project, string port) => NpgsqlDataSource.Create(
        $"Host=127.0.0.1;Port={project.Port(port)};Username={project.Setting("POSTGRES_USER")};Password={project.Setting("POSTGRES_PASSWORD")};Database={project.Setting("POSTGRES_DB")}");

    static async Task<Dictionary<string, (long Signals, long Promotions)>> StreamsAsync(NpgsqlDataSource store)
    {
        await using var command = store.CreateCommand("""
            select stream_id, count(*) filter (where type = 'signal-recorded/v1'), count(*) filter (where type = 'phase-changed/v1')
            from es.events where stream_id like 'compose-shard-%' group by stream_id
            """);
        await using var reader = await command.ExecuteReaderAsync();
        var streams = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            streams[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        }
        return streams;
    }
}
