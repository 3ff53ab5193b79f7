using Streaming.Contracts;
using Streaming.Contracts.Signals;
using Streaming.Embedded.Broker;
using Streaming.Ingest.Appending;
using Streaming.Projections.Sharding;
using Streaming.Promoter.Decisions;
using Streaming.Tests.Admissions;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Ownership;

namespace Streaming.Tests.Sharding;

/// <summary>
/// A Promoter process serving each shard of a <see cref="TwoShardStore"/> (Owner mode), over an embedded broker of their
/// own, and the relay that copies the control streams into shard 1 (the Projector's, run by the test), as the process
/// tests of the fleet-wide controls over shards run them. Signals are appended to each job's shard directly, minute by
/// minute; each Promoter writes its checkpoint 200 ms after a quiet moment, which each minute waits for.
/// </summary>
internal sealed class ShardPromoters : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    readonly TwoShardStore _store;
    readonly EmbeddedKafkaCluster _kafka;
    readonly ControlRelay _relay;
    readonly Dictionary<string, string> _settings;
    readonly Action<string> _output;
    readonly ServiceProcess[] _promoters;

    ShardPromoters(TwoShardStore store, EmbeddedKafkaCluster kafka, Dictionary<string, string> settings, Action<string> output)
    {
        _store = store;
        _kafka = kafka;
        _settings = settings;
        _output = output;
        _relay = new ControlRelay(store.Shard(1), store.Shard(0));
        _promoters = [ShardPromoter.Start(store, kafka.BootstrapServers, 0, settings), ShardPromoter.Start(store, kafka.BootstrapServers, 1, settings)];
    }

    /// <summary>Starts both with the policy folder given and waits until each follows its shard's partitions and 0.</summary>
    public static async Task<ShardPromoters> StartAsync(TwoShardStore store, string policyDirectory, Action<string> output)
    {
        var settings = new Dictionary<string, string> { ["Promoter__PolicyDirectory"] = policyDirectory, ["Promoter__StateWriteInterval"] = "00:00:00.200" };
        var kafka = EmbeddedKafkaCluster.Start();
        foreach (var topic in new[] { Topics.Signals, Topics.PhaseChanges })
        {
            kafka.CreateTopic(topic, PartitionedDatabase.Partitions);
        }
        var promoters = new ShardPromoters(store, kafka, settings, output);
        await Eventually.True(() => Task.FromResult(FollowedShare.Of(promoters._promoters[0]).SetEquals([0, 2])), Timeout, "shard 0's Promoter to follow 0 and 2");
        await Eventually.True(() => Task.FromResult(FollowedShare.Of(promoters._promoters[1]).SetEquals([0, 1, 3])), Timeout, "shard 1's Promoter to follow 0, 1 and 3");
        return promoters;
    }

    /// <summary>Each job's phase as its latest recorded phase change on its shard says, or <paramref name="start"/>.</summary>
    public async Task<Dictionary<string, string>> PhasesAsync(IReadOnlyList<string> jobs, string start = "shadow") =>
        await WaveInFlight.PhasesAsync(_store.Shard(1), jobs, await WaveInFlight.PhasesAsync(_store.Shard(0), jobs, start: start));

    /// <summary>
    /// Appends minute <paramref name="minute"/>'s signal of each job, in the phase it was last moved to (else
    /// <paramref name="phase"/>), to its shard, and waits until both Promoters processed them, the control relay caught up.
    /// </summary>
    public async Task MinuteAsync(IReadOnlyList<string> jobs, int minute, string phase, IReadOnlyDictionary<string, double> metrics)
    {
        var phases = await PhasesAsync(jobs, phase);
        foreach (var shard in Enumerable.Range(0, 2))
        {
            var signals = jobs.Where(job => TwoShardStore.ShardOf(job) == shard)
                .Select(job => SignalFactory.Signal(job, minute + 1, SignalFactory.Start.AddMinutes(minute), phases[job], metrics))
                .Select(signal => SignalToAppend.Of(SignalReadResult.Accepted(signal), default)).ToList();
            await new SignalLog(_store.Shard(shard)).AppendSignalsAsync(signals, [], CancellationToken.None);
        }
        foreach (var job in jobs)
        {
            var probe = new StoreProbe(_store.Shard(TwoShardStore.ShardOf(job)));
            await Eventually.True(
                async () => await _relay.CatchUpAsync(CancellationToken.None) >= 0 && await probe.HasProcessedAsync(DecisionFold.CheckpointName, job),
                Timeout, $"the Promoters to process {job} at minute {minute}");
        }
    }

    /// <summary>Kills (SIGKILL) shard 0's Promoter, the owner of the control partition, and starts it again.</summary>
    public async Task KillAndRestartOwnerAsync()
    {
        await _promoters[0].KillAsync();
        await _promoters[0].DisposeAsync();
        _promoters[0] = ShardPromoter.Start(_store, _kafka.BootstrapServers, 0, _settings);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var promoter in _promoters)
        {
            _output(promoter.Log);
            await promoter.DisposeAsync();
        }
        _kafka.Dispose();
    }
}
