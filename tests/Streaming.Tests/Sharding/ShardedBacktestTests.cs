using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.PhaseChanges;
using Streaming.Contracts.Signals;
using Streaming.Embedded.Broker;
using Streaming.Ingest.Appending;
using Streaming.Lifecycle;
using Streaming.Projections.History;
using Streaming.Projections.Tail;
using Streaming.Promoter.Backtesting;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Ownership;
using Xunit.Abstractions;

namespace Streaming.Tests.Sharding;

/// <summary>
/// <c>streaming backtest</c> over a store of two shards whose history a Promoter process of each shard decided live: the
/// replay reads every shard's partitions and the control partition once, from shard 0, and reproduces both shards'
/// decisions; a candidate's differences are counted over the jobs of both.
/// </summary>
public sealed class ShardedBacktestTests(TwoShardStore store, ITestOutputHelper output) : IClassFixture<TwoShardStore>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task A_backtest_over_both_shards_reproduces_each_shards_live_promotions_and_counts_a_candidates_differences_on_both()
    {
        // Given a Promoter process serving each shard (each publishes the policy folder to shard 0; shard 1's copies it in)
        using var kafka = EmbeddedKafkaCluster.Start();
        foreach (var topic in new[] { Topics.Signals, Topics.PhaseChanges })
        {
            kafka.CreateTopic(topic, PartitionedDatabase.Partitions);
        }
        var promoters = new List<ServiceProcess>();
        try
        {
            promoters.Add(ShardPromoter.Start(store, kafka.BootstrapServers, shard: 0));
            promoters.Add(ShardPromoter.Start(store, kafka.BootstrapServers, shard: 1));
            await Eventually.True(() => Task.FromResult(FollowedShare.Of(promoters[0]).SetEquals([0, 2])), Timeout, "shard 0's Promoter to follow 0 and 2");
            await Eventually.True(() => Task.FromResult(FollowedShare.Of(promoters[1]).SetEquals([0, 1, 3])), Timeout, "shard 1's Promoter to follow 0, 1 and 3");

            // And two jobs in each log partition with 40 minutes of clean shadow signals, each in its shard's log
            var jobs = Enumerable.Range(0, TwoShardStore.Partitions).SelectMany(p => new[] { PartitionedDatabase.JobIn(p), PartitionedDatabase.JobIn(p) }).ToList();
            foreach (var shard in Enumerable.Range(0, 2))
            {
                var signals = jobs.Where(j => TwoShardStore.ShardOf(j) == shard)
                    .SelectMany(job => SignalFactory.Minutes(job, 0, 40, "shadow", SignalFactory.Good))
                    .Select(signal => SignalToAppend.Of(SignalReadResult.Accepted(signal), default)).ToList();
                await new SignalLog(store.Shard(shard)).AppendSignalsAsync(signals, [], CancellationToken.None);
            }

            // And each promoted live, once, on its shard, at the signal that completed its 30-minute soak
            foreach (var job in jobs)
            {
                var shard = store.Shard(TwoShardStore.ShardOf(job));
                await Eventually.True(async () => (await ShardPromoter.EventIdsAsync(shard, job, PhaseChanged.EventType)).Count > 0, Timeout, $"{job} (shard {TwoShardStore.ShardOf(job)}) to be promoted");
                Assert.Equal([EventIds.ForDecision(job, 31)], await ShardPromoter.EventIdsAsync(shard, job, PhaseChanged.EventType));
            }
        }
        finally
        {
            foreach (var promoter in promoters)
            {
                output.WriteLine(promoter.Log);
                await promoter.DisposeAsync();
            }
        }
        var candidate = Path.Combine(Path.GetTempPath(), $"sharded-backtest-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(candidate, DefaultPolicies.CdcMigrationText.Replace("soak: 30m", "soak: 10m", StringComparison.Ordinal));
        var shards = new Dictionary<string, string> { ["Store__Shards"] = "2", ["ConnectionStrings__EventStoreShard1"] = store.Server(1).ConnectionString };
        var allJobs = await JobsAsync();

        // When the history is backtested against a candidate soaking 10 minutes, with both shards named
        var (exit, json, error) = await StreamingTool.RunAsync(store.Server(0).ConnectionString, shards, "backtest", candidate, "--per-job", "--json");
        File.Delete(candidate);

        // Then every shard's events were replayed, shard 1's copies of the control streams left out
        Assert.True(exit == 0, $"exit {exit}: {error}");
        var report = JsonNode.Parse(json)!;
        Assert.Equal(await EventsAsync(store.Shard(0), withControlPartition: true) + await EventsAsync(store.Shard(1), withControlPartition: false), (long)report["events"]!);
        Assert.Equal(allJobs.Count, (int)report["jobs"]!);

        // And the recorded policies, replayed, make exactly the promotions the two shards' Promoters made live
        Assert.Equal(allJobs.Count, (int)report["recordedDecisions"]!);
        Assert.True((bool)report["baselineReproducesRecord"]!, $"{report["baselineMismatches"]} decisions differ");
        Assert.Equal(allJobs.Count, (int)report["baseline"]!["promotions"]!);

        // And the candidate promotes each job of both shards 20 minutes sooner: every one of them differs
        Assert.Equal(allJobs.Count, (int)report["candidateSide"]!["promotions"]!);
        Assert.Equal(allJobs.Count, (int)report["jobsDiffering"]!);
        var differing = report["differences"]!.AsArray().Select(d => (string)d!["jobId"]!).ToList();
        Assert.Equal(allJobs.Order(StringComparer.Ordinal), differing);
        Assert.Equal([0, 1], differing.Select(TwoShardStore.ShardOf).Distinct().Order());

        // And read from each shard's history archive (blocks of 50 events, shard 1's without its control copies) the
        // replay reports exactly the same as from the logs alone
        var policy = PolicyDocument.Parse(DefaultPolicies.CdcMigrationText.Replace("soak: 30m", "soak: 10m", StringComparison.Ordinal), 0).Policy!;
        var fromLogs = new Backtest(policy, null, NullLogger.Instance);
        var logged = await BacktestReplay.ReplayAsync(store.Shards, fromLogs, useArchive: false, NullLogger.Instance, CancellationToken.None);
        Assert.Equal((0L, (long)report["events"]!), logged);
        foreach (var shard in Enumerable.Range(0, 2))
        {
            var partitions = FollowedPartitions.Share(TwoShardStore.Map.PartitionsOf(shard), TwoShardStore.Partitioner);
            Assert.True(await new HistoryArchive(store.Shard(shard), NullLogger.Instance, blockSize: 50).CatchUpAsync(partitions, CancellationToken.None) >= 50);
        }
        var fromArchives = new Backtest(policy, null, NullLogger.Instance);
        var read = await BacktestReplay.ReplayAsync(store.Shards, fromArchives, useArchive: true, NullLogger.Instance, CancellationToken.None);
        Assert.True(read.FromArchive >= 100, $"{read.FromArchive} events from the archives");
        Assert.Equal((long)report["events"]!, read.FromArchive + read.FromLog);
        Assert.Equal(JsonSerializer.Serialize(fromLogs.Report(perJob: true)), JsonSerializer.Serialize(fromArchives.Report(perJob: true)));
        Assert.True(fromArchives.Report(perJob: false).BaselineReproducesRecord);
    }

    // The jobs with signals in either shard's log (its own partitions): those of this test.
    async Task<List<string>> JobsAsync()
    {
        var jobs = new List<string>();
        foreach (var shard in Enumerable.Range(0, 2))
        {
            await using var command = store.Shard(shard).CreateCommand("select distinct stream_id from es.events where type = $1");
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SignalRecorded.EventType });
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                jobs.Add(reader.GetString(0));
            }
        }
        return jobs;
    }

    static async Task<long> EventsAsync(NpgsqlDataSource shard, bool withControlPartition)
    {
        await using var command = shard.CreateCommand("select count(*) from es.events where $1 or partition <> 0");
        command.Parameters.Add(new NpgsqlParameter<bool> { TypedValue = withControlPartition });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
