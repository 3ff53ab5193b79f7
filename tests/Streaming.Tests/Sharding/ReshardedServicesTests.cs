using Npgsql;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Contracts.Signals;
using Streaming.Embedded.Broker;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Promoter.Decisions;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Sharding;

/// <summary>
/// The services after <c>streaming reshard</c>: a Projector and a Promoter per shard fold each job over two shards; after
/// the move onto three, a Promoter per shard folds its shard's log again from the start (its state was the shard's) and
/// decides nothing twice (the decisions it makes again have the ids of those moved with the jobs, which the store keeps
/// once), and a Projector per shard projects the moved jobs again on their new shard from its log.
/// </summary>
public sealed class ReshardedServicesTests(ITestOutputHelper output)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);
    static readonly ShardMap Two = new(2, ThreeShardStore.Partitions);
    static readonly ShardMap Three = new(3, ThreeShardStore.Partitions);

    [Fact]
    public async Task Services_started_on_three_shards_after_a_reshard_fold_the_moved_jobs_again_without_deciding_twice()
    {
        // Given two jobs in partition 1 (staying on shard 1), 2 (shard 0 → 2) and 3 (shard 1 → 0), with 40 minutes of clean shadow signals
        await using var store = await ThreeShardStore.StartAsync();
        var jobs = new[] { 1, 2, 3 }.SelectMany(p => Enumerable.Range(0, 2).Select(_ => (Partition: p, Job: PartitionedDatabase.JobIn(ThreeShardStore.Partitioner, p)))).ToList();
        foreach (var group in jobs.GroupBy(j => Two.ShardOf(j.Partition)))
        {
            var signals = group.SelectMany(j => SignalFactory.Minutes(j.Job, 0, 40, "shadow", SignalFactory.Good))
                .Select(signal => SignalToAppend.Of(SignalReadResult.Accepted(signal), default)).ToList();
            await new SignalLog(store.Shard(group.Key)).AppendSignalsAsync(signals, [], CancellationToken.None);
        }
        using var kafka = EmbeddedKafkaCluster.Start();
        foreach (var topic in new[] { Topics.Signals, Topics.PhaseChanges })
        {
            kafka.CreateTopic(topic, ThreeShardStore.Partitions);
        }

        // And a Projector and a Promoter per shard of two have projected each job and promoted it once, at the signal that completed its soak
        await using (var first = new ServiceSet(store, kafka.BootstrapServers, shards: 2))
        {
            await AssertProjectedAsync(store, jobs, Two);
            foreach (var (partition, job) in jobs)
            {
                await Eventually.True(async () => (await ShardPromoter.EventIdsAsync(store.Shard(Two.ShardOf(partition)), job, PhaseChanged.EventType)).Count == 1,
                    Timeout, $"{job} promoted on shard {Two.ShardOf(partition)}");
            }
            output.WriteLine(first.Log);

            // And a reshard while they run is refused, naming them as their sessions are named
            var (refused, _, why) = await ReshardAsync(store);
            Assert.Equal(1, refused);
            Assert.Contains("Streaming.Projector.Host", why, StringComparison.Ordinal);
            Assert.Contains("Streaming.Promoter.Host", why, StringComparison.Ordinal);
        }

        // When the store is resharded onto three, once the services' sessions are gone
        await WaitForNoSessionsAsync(store);
        var (exit, said, error) = await ReshardAsync(store);
        Assert.True(exit == 0, $"exit {exit}: {error}\n{said}");
        output.WriteLine(said);

        // And a Projector and a Promoter per shard of three start
        await using var second = new ServiceSet(store, kafka.BootstrapServers, shards: 3);

        // Then each shard's Promoter folds its jobs again, and each job still has its one decision, on its new shard alone
        foreach (var (partition, job) in jobs)
        {
            var shard = Three.ShardOf(partition);
            await Eventually.True(() => new StoreProbe(store.Shard(shard)).HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"shard {shard}'s Promoter to fold {job} again");
            Assert.Equal([EventIds.ForDecision(job, 31)], await ShardPromoter.EventIdsAsync(store.Shard(shard), job, PhaseChanged.EventType));
            foreach (var other in Enumerable.Range(0, 3).Where(s => s != shard))
            {
                Assert.Empty(await ShardPromoter.EventIdsAsync(store.Shard(other), job, null));
            }
        }
        // And each job's state is projected again on its new shard alone, up to its last signal and its promotion
        try
        {
            await AssertProjectedAsync(store, jobs, Three);
        }
        finally
        {
            output.WriteLine(second.Log);
        }
        Assert.DoesNotContain("[ERR]", second.Log, StringComparison.Ordinal);
    }

    static async Task AssertProjectedAsync(ThreeShardStore store, IReadOnlyList<(int Partition, string Job)> jobs, ShardMap map)
    {
        foreach (var (partition, job) in jobs)
        {
            await Eventually.True(async () => await ProjectedAsync(store.Shard(map.ShardOf(partition)), job) == "40 1", Timeout,
                $"{job}'s state on shard {map.ShardOf(partition)} at seq 40 after one phase change");
            foreach (var other in Enumerable.Range(0, map.Shards).Where(s => s != map.ShardOf(partition)))
            {
                Assert.Null(await ProjectedAsync(store.Shard(other), job));
            }
        }
    }

    // The job's last seq and phase changes as projected on the shard; null without a row (or without the Projector's views yet).
    static async Task<string?> ProjectedAsync(NpgsqlDataSource shard, string job)
    {
        await using var command = shard.CreateCommand("""
            select case when to_regclass('projections.job_states') is null then null
                        else (select last_seq || ' ' || phase_changes from projections.job_states where job_id = $1) end
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job });
        return await command.ExecuteScalarAsync() as string;
    }

    static Task<(int Exit, string Out, string Error)> ReshardAsync(ThreeShardStore store) =>
        StreamingTool.RunAsync(store.Server(0).ConnectionString, new Dictionary<string, string>
        {
            ["Store__Shards"] = "2",
            ["ConnectionStrings__EventStoreShard1"] = store.Server(1).ConnectionString,
            ["ConnectionStrings__EventStoreShard2"] = store.Server(2).ConnectionString,
        }, "reshard", "--shards", "3");

    static async Task WaitForNoSessionsAsync(ThreeShardStore store)
    {
        store.CloseSessions();
        await Eventually.True(async () =>
        {
            foreach (var shard in Enumerable.Range(0, 3))
            {
                await using var command = store.Shard(shard).CreateCommand(
                    "select count(*) from pg_stat_activity where datname = current_database() and backend_type = 'client backend' and pid <> pg_backend_pid()");
                var others = (long)(await command.ExecuteScalarAsync())!;
                store.CloseSessions();
                if (others > 0)
                {
                    return false;
                }
            }
            return true;
        }, TimeSpan.FromSeconds(30), "the stopped Promoters' sessions to end");
    }

    /// <summary>A Projector and a Promoter process per shard of the first <c>shards</c> of the store, each without a group.</summary>
    sealed class ServiceSet : IAsyncDisposable
    {
        readonly List<ServiceProcess> _processes;

        public ServiceSet(ThreeShardStore store, string bootstrapServers, int shards)
        {
            _processes = [.. Enumerable.Range(0, shards).SelectMany(shard => new[] { "Projector", "Promoter" }.Select(service =>
            {
                var settings = new Dictionary<string, string>
                {
                    ["ConnectionStrings__EventStore"] = store.Server(0).ConnectionString,
                    ["Store__Shards"] = $"{shards}",
                    ["Store__Shard"] = $"{shard}",
                    ["Store__LogPartitions"] = $"{ThreeShardStore.Partitions}",
                    ["Kafka__BootstrapServers"] = bootstrapServers,
                    ["Kafka__CreateTopics"] = "false",
                    ["Kafka__Partitions"] = $"{ThreeShardStore.Partitions}",
                    ["Serilog__MinimumLevel__Default"] = "Warning",
                    ["Serilog__MinimumLevel__Override__Streaming.Projections.Tail"] = "Information",
                    ["Serilog__MinimumLevel__Override__Streaming.Projector"] = "Information",
                };
                foreach (var other in Enumerable.Range(1, shards - 1))
                {
                    settings[$"ConnectionStrings__EventStoreShard{other}"] = store.Server(other).ConnectionString;
                }
                return ServiceProcess.Start(service, settings);
            }))];
        }

        public string Log => string.Join("\n", _processes.Select((p, i) => $"--- {(i % 2 == 0 ? "Projector" : "Promoter")} of shard {i / 2}\n{p.Log}"));

        public async ValueTask DisposeAsync()
        {
            foreach (var process in _processes)
            {
                await process.DisposeAsync();
            }
        }
    }
}
