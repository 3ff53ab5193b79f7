using System.Text.Json.Nodes;
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
}
