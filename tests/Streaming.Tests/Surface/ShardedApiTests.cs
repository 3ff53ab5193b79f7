using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>
/// The API process over two shards, through HTTP: it migrates the second shard, serves each job from its shard, sums
/// the fleet, pages the jobs list over both, and folds each shard's log into that shard's fleet history.
/// </summary>
public sealed class ShardedApiTests(TwoShardApi api) : IClassFixture<TwoShardApi>, IAsyncLifetime
{
    static readonly IReadOnlyList<ListedJob> Jobs = ListedJob.Many(23);

    static int ShardOf(string jobId) => TwoShardStore.ShardOf(jobId);

    public async Task InitializeAsync()
    {
        foreach (var shard in Enumerable.Range(0, 2))
        {
            await ListedJob.WriteAsync(api.Shards.All[shard], [.. Jobs.Where(j => ShardOf(j.Id) == shard)], version: 1);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Each_job_is_served_from_its_shard_and_the_fleet_is_the_sum_of_both()
    {
        using var viewer = api.Client();

        // When each job's detail and the fleet summary are asked for
        foreach (var job in Jobs)
        {
            var detail = (await viewer.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{job.Id}"))!;

            // Then each job is found with its phase, wherever it lives
            Assert.Equal(job.Phase, (string?)detail["assignedPhase"]);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync("/api/v1/jobs/no-such-job")).StatusCode);
        Assert.Contains(Jobs, j => ShardOf(j.Id) == 0);
        Assert.Contains(Jobs, j => ShardOf(j.Id) == 1);
        var summary = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/fleet/summary"))!;
        Assert.Equal(Jobs.Count, (int)summary["totals"]!["jobs"]!);
        Assert.Equal(Jobs.Count(j => j.HeldByIssue), (int)summary["totals"]!["knownIssue"]!);
        Assert.Equal(TwoShardStore.Partitions, (await EventStoreSchema.ReadPartitioningAsync(api.Shards.All[1], CancellationToken.None)).Partitions);
    }

    [Fact]
    public async Task The_jobs_list_pages_over_both_shards_each_job_once()
    {
        using var viewer = api.Client();
        foreach (var (sort, order) in new[] { ("id", "asc"), ("signal", "desc") })
        {
            // When the list is read 5 jobs a page
            var seen = new List<string>();
            string? cursor = null;
            do
            {
                var page = (await viewer.GetFromJsonAsync<JsonObject>($"/api/v1/jobs?sort={sort}&order={order}&limit=5" +
                    (cursor is null ? "&count=true" : "&cursor=" + cursor)))!;
                if (cursor is null)
                {
                    Assert.Equal(Jobs.Count, (int)page["total"]!);
                }
                seen.AddRange(page["jobs"]!.AsArray().Select(j => (string)j!["jobId"]!));
                cursor = (string?)page["next"];
            }
            while (cursor is not null);

            // Then every job of both shards comes once, in order
            Assert.Equal(ListedJob.Expected(Jobs, sort, order == "desc"), seen);
        }
    }

    [Fact]
    public async Task Each_shard_s_log_is_folded_into_its_own_fleet_history()
    {
        // Given a new job's first signal appended on each shard (the job's own)
        var jobs = new[] { "history-a", "history-b", "history-c", "history-d", "history-e", "history-f" }.GroupBy(ShardOf).Select(g => g.First()).ToList();
        Assert.Equal(2, jobs.Count);
        foreach (var jobId in jobs)
        {
            var signal = new SignalRecorded(jobId, 1, DateTimeOffset.UtcNow, "shadow", new Dictionary<string, double>(), new Dictionary<string, string>(), null);
            await api.Shards.StreamsOf(ShardOf(jobId)).AppendToStreamAsync(jobId, ExpectedVersion.Any,
                [new EventToAppend(Guid.NewGuid(), SignalRecorded.EventType, ContractsJson.Serialize(signal), ContractsJson.Serialize(new EventMetadata(null, null)), signal.EmittedAt)],
                CancellationToken.None);
        }

        // Then each shard's fleet history fold records the job in its phase, on that shard
        foreach (var jobId in jobs)
        {
            await Eventually.True(async () => await PhaseAsync(api.Shards.All[ShardOf(jobId)], jobId) == "shadow", TimeSpan.FromSeconds(30),
                $"{jobId} in shard {ShardOf(jobId)}'s fleet history");
        }
        using var viewer = api.Client();
        var history = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/fleet/history?hours=2"))!;
        Assert.Equal(2, history["phases"]!.AsArray().Single(p => (string?)p!["phase"] == "shadow")!["jobs"]!.AsArray().Select(v => (int)v!).Last());
    }

    [Fact]
    public async Task An_operator_s_hold_of_a_job_is_appended_on_the_job_s_shard()
    {
        using var operatorClient = api.Client("operator");
        foreach (var job in new[] { Jobs.First(j => ShardOf(j.Id) == 0), Jobs.First(j => ShardOf(j.Id) == 1) })
        {
            // When an operator holds the job through the API
            var response = await operatorClient.PostAsJsonAsync($"/api/v1/jobs/{job.Id}/overrides", new { kind = "hold", reason = "sharded hold" });

            // Then the hold is in the job's stream on its shard, and not on the other
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Single(await api.Shards.StreamsOf(ShardOf(job.Id)).ReadStreamBackwardAsync(job.Id, long.MaxValue, 10, CancellationToken.None));
            Assert.Empty(await api.Shards.StreamsOf(1 - ShardOf(job.Id)).ReadStreamBackwardAsync(job.Id, long.MaxValue, 10, CancellationToken.None));
        }
    }

    static async Task<string?> PhaseAsync(NpgsqlDataSource dataSource, string jobId)
    {
        await using var command = dataSource.CreateCommand("select phase from fleet.job_phases where job_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        return await command.ExecuteScalarAsync() as string;
    }
}
