using System.Text.Json.Nodes;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Sharding;

/// <summary>The command line's job reads over a store of two shards: each job's history is read from its shard.</summary>
public sealed class ShardedCommandLineTests(TwoShardStore store) : IClassFixture<TwoShardStore>
{
    [Fact]
    public async Task History_reads_each_job_from_its_shard_named_as_the_services_are_told_and_a_bad_shard_count_is_refused()
    {
        // Given a job on each shard, with three events each
        var jobs = Enumerable.Range(1, 50).Select(i => $"cli-shard-{i}").GroupBy(TwoShardStore.ShardOf).OrderBy(g => g.Key).Select(g => g.First()).ToList();
        Assert.Equal(2, jobs.Count);
        foreach (var job in jobs)
        {
            await store.Shards.StreamsOfJob(job).AppendToStreamAsync(job, ExpectedVersion.NoStream, SampleEvents.Events(3), CancellationToken.None);
        }
        var shards = new Dictionary<string, string> { ["Store__Shards"] = "2", ["ConnectionStrings__EventStoreShard1"] = store.Server(1).ConnectionString };

        foreach (var job in jobs)
        {
            // When its history is asked for with both shards named
            var (exit, output, error) = await StreamingTool.RunAsync(store.Server(0).ConnectionString, shards, "history", job, "--json");

            // Then it is read from the job's shard
            Assert.True(exit == 0, $"{job} (shard {TwoShardStore.ShardOf(job)}): exit {exit}: {error}");
            Assert.Equal([3L, 2L, 1L], JsonNode.Parse(output)!.AsArray().Select(e => (long)e!["version"]!));
        }

        // And without the other shard named, a job of shard 1 is not found on shard 0 (the exit says so)
        var shardOne = jobs.Single(j => TwoShardStore.ShardOf(j) == 1);
        var (missing, _, why) = await StreamingTool.RunAsync(store.Server(0).ConnectionString, new Dictionary<string, string>(), "history", shardOne, "--json");
        Assert.NotEqual(0, missing);
        Assert.Contains($"no job {shardOne}", why, StringComparison.Ordinal);

        // And a shard named without its connection string is refused with the reason
        var (refused, _, reason) = await StreamingTool.RunAsync(store.Server(0).ConnectionString, new Dictionary<string, string> { ["Store__Shards"] = "3" }, "history", shardOne);
        Assert.NotEqual(0, refused);
        Assert.Contains("ConnectionStrings__EventStoreShard1 is required", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rebuild_rebuilds_each_shards_job_states_from_its_own_log()
    {
        // Given three jobs of each shard with two signals each
        var jobs = Enumerable.Range(1, 60).Select(i => $"rebuild-shard-{i}").GroupBy(TwoShardStore.ShardOf).OrderBy(g => g.Key).SelectMany(g => g.Take(3)).ToList();
        foreach (var job in jobs)
        {
            var signals = Enumerable.Range(1, 2).Select(seq => new SignalRecorded(job, seq, SampleEvents.T0.AddMinutes(seq), "shadow",
                new Dictionary<string, double> { ["error_rate"] = 0.001 }, new Dictionary<string, string>(), null)).ToList();
            await store.Shards.StreamsOfJob(job).AppendToStreamAsync(job, ExpectedVersion.NoStream,
                [.. signals.Select(s => new EventToAppend(EventIds.ForSignal(job, s.Seq), SignalRecorded.EventType, ContractsJson.Serialize(s), "{}", s.EmittedAt))],
                CancellationToken.None);
        }
        var shards = new Dictionary<string, string> { ["Store__Shards"] = "2", ["ConnectionStrings__EventStoreShard1"] = store.Server(1).ConnectionString };

        // When the job states are rebuilt with both shards named
        var (exit, output, error) = await StreamingTool.RunAsync(store.Server(0).ConnectionString, shards, "rebuild", "--fresh", "--json");

        // Then each shard replayed its own log, and holds its jobs' states, at their last signal, and no other shard's
        Assert.True(exit == 0, $"exit {exit}: {error}");
        Assert.Equal([0, 1], JsonNode.Parse(output)!.AsArray().Select(r => (int)r!["shard"]!));
        foreach (var shard in Enumerable.Range(0, 2))
        {
            await using var rows = store.Shard(shard).CreateCommand("select job_id, last_seq from projections.job_states where job_id like 'rebuild-shard-%' order by job_id");
            await using var reader = await rows.ExecuteReaderAsync();
            var states = new List<(string, long)>();
            while (await reader.ReadAsync())
            {
                states.Add((reader.GetString(0), reader.GetInt64(1)));
            }
            Assert.Equal(jobs.Where(j => TwoShardStore.ShardOf(j) == shard).Order(StringComparer.Ordinal).Select(j => (j, 2L)), states);
        }
    }

    [Fact]
    public async Task Export_writes_every_shards_events_each_line_naming_its_shard_without_the_copies_of_shard_0s_control_streams()
    {
        // Given two events in a job of each shard, and a control stream that shard 1 holds as a copy of shard 0's
        const string Type = "export-test/v1";
        var jobs = Enumerable.Range(1, 60).Select(i => $"export-shard-{i}").GroupBy(TwoShardStore.ShardOf).OrderBy(g => g.Key).Select(g => g.First()).ToList();
        foreach (var job in jobs)
        {
            await store.Shards.StreamsOfJob(job).AppendToStreamAsync(job, ExpectedVersion.NoStream, [SampleEvents.Event(Type), SampleEvents.Event(Type)], CancellationToken.None);
        }
        var control = SampleEvents.Event(Type);
        foreach (var shard in Enumerable.Range(0, 2))
        {
            await new EventStreams(store.Shard(shard)).AppendToStreamAsync("known-issue:export", ExpectedVersion.NoStream, [control], CancellationToken.None);
        }
        var shards = new Dictionary<string, string> { ["Store__Shards"] = "2", ["ConnectionStrings__EventStoreShard1"] = store.Server(1).ConnectionString };

        // When the events of that type are exported with both shards named
        var (exit, output, error) = await StreamingTool.RunAsync(store.Server(0).ConnectionString, shards, "export", "--type", Type);

        // Then each job's events come from its shard, named on each line, and the control stream once, from shard 0
        Assert.True(exit == 0, $"exit {exit}: {error}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(
            jobs.SelectMany(j => new[] { (TwoShardStore.ShardOf(j), j), (TwoShardStore.ShardOf(j), j) }).Append((0, "known-issue:export")).Order(),
            lines.Select(l => ((int)l["shard"]!, (string)l["streamId"]!)).Order());
    }
}
