using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Contracts.Signals;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Projections.History;
using Streaming.Projections.Sharding;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Sharding;

/// <summary>
/// <c>streaming archive</c> over a store of two shards: each shard's history archive is brought up to its own log, of its
/// own partitions, and shard 1 leaves out its copy of the control partition, which shard 0 archives.
/// </summary>
public sealed class ShardedArchiveTests(TwoShardStore store) : IClassFixture<TwoShardStore>
{
    const int SignalsPerJob = HistoryArchive.DefaultBlockSize / 2;
    const string ControlStream = "known-issue:archive-test";

    [Fact]
    public async Task Archive_keeps_every_jobs_events_once_on_its_shard_and_the_control_streams_once_on_shard_0()
    {
        // Given two jobs in each log partition, of a block's worth of signals in all (so every event fills a whole block)
        var jobs = Enumerable.Range(0, TwoShardStore.Partitions).SelectMany(p => new[] { PartitionedDatabase.JobIn(p), PartitionedDatabase.JobIn(p) }).ToList();
        foreach (var shard in Enumerable.Range(0, 2))
        {
            var signals = jobs.Where(j => TwoShardStore.ShardOf(j) == shard)
                .SelectMany(job => SignalFactory.Minutes(job, 0, SignalsPerJob, "shadow", SignalFactory.Good))
                .Select(signal => SignalToAppend.Of(SignalReadResult.Accepted(signal), default)).ToList();
            await new SignalLog(store.Shard(shard)).AppendSignalsAsync(signals, [], CancellationToken.None);
        }

        // And a block's worth of a control stream's events in shard 0, relayed to shard 1 as its Projectors relay them
        await new EventStreams(store.Shard(0)).AppendToStreamAsync(ControlStream, ExpectedVersion.NoStream,
            SampleEvents.Events(HistoryArchive.DefaultBlockSize, "archive-test/v1"), CancellationToken.None);
        Assert.Equal(HistoryArchive.DefaultBlockSize, await new ControlRelay(store.Shard(1), store.Shard(0)).CatchUpAsync(CancellationToken.None));
        var shards = new Dictionary<string, string> { ["Store__Shards"] = "2", ["ConnectionStrings__EventStoreShard1"] = store.Server(1).ConnectionString };

        // When the archive is brought up to the log with both shards named
        var (exit, output, error) = await StreamingTool.RunAsync(store.Server(0).ConnectionString, shards, "archive", "--json");

        // Then each shard says what it archived: shard 0 its two partitions with the control streams, shard 1 its two alone
        Assert.True(exit == 0, $"exit {exit}: {error}");
        var results = JsonNode.Parse(output)!.AsArray();
        Assert.Equal([0, 1], results.Select(r => (int)r!["shard"]!));
        Assert.Equal([3L * HistoryArchive.DefaultBlockSize, 2L * HistoryArchive.DefaultBlockSize], results.Select(r => (long)r!["archived"]!));
        Assert.Contains("0:", (string?)results[0]!["reaches"], StringComparison.Ordinal);
        Assert.DoesNotContain("0:", (string?)results[1]!["reaches"], StringComparison.Ordinal);

        // And the archives hold every job's events exactly once, in its version order, on its own shard
        var archived = new[] { await ArchivedAsync(store.Shard(0)), await ArchivedAsync(store.Shard(1)) };
        foreach (var job in jobs)
        {
            var shard = TwoShardStore.ShardOf(job);
            Assert.Equal(Enumerable.Range(1, SignalsPerJob).Select(v => (long)v), archived[shard].Where(e => e.Stream == job).Select(e => e.Version));
            Assert.DoesNotContain(archived[1 - shard], e => e.Stream == job);
        }

        // And the control stream once, from shard 0, in partition 0; shard 1 has no block of its copy
        Assert.Equal(Enumerable.Range(1, HistoryArchive.DefaultBlockSize).Select(v => (long)v),
            archived[0].Where(e => e.Stream == ControlStream).Select(e => e.Version));
        Assert.All(archived[0].Where(e => e.Stream == ControlStream), e => Assert.Equal(0, e.Partition));
        Assert.DoesNotContain(archived[1], e => e.Partition == 0 || e.Stream == ControlStream);
        Assert.Equal(jobs.Count * SignalsPerJob + HistoryArchive.DefaultBlockSize, archived[0].Count + archived[1].Count);

        // And a second run finds nothing more to archive on either shard
        var (again, rerun, rerunError) = await StreamingTool.RunAsync(store.Server(0).ConnectionString, shards, "archive", "--json");
        Assert.True(again == 0, $"exit {again}: {rerunError}");
        Assert.Equal([0L, 0L], JsonNode.Parse(rerun)!.AsArray().Select(r => (long)r!["archived"]!));
    }

    // Every event of every block of the shard's archive, of any partition, with its partition, in each partition's order.
    static async Task<List<(int Partition, string Stream, long Version)>> ArchivedAsync(NpgsqlDataSource shard)
    {
        var blocks = await HistoryArchive.ReadAsync(shard, LogPositions.Start(TwoShardStore.Partitions), maxBlocks: 100, NullLogger.Instance, CancellationToken.None);
        await using var count = shard.CreateCommand("select count(*) from es.history_blocks");
        Assert.Equal((long)blocks.Count, (long)(await count.ExecuteScalarAsync())!);
        return [.. blocks.SelectMany(b => b.Events.Select(e => (b.Partition, e.StreamId, e.Version)))];
    }
}
