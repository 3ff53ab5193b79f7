using System.Globalization;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Embedded.Broker;

namespace Streaming.Chaos.Scenarios;

/// <summary>
/// Faults of the Kafka-protocol broker through the mock cluster's fault injection, one at each sixth of the stream: a
/// broker down for 3 s, every partition's leader moved, errors answering produce requests, fetch requests and offset
/// commits, and 500 ms of latency on every broker for 3 s.
/// </summary>
public sealed class BrokerFaultPlan : IFaultPlan
{
    static readonly TimeSpan Lasting = TimeSpan.FromSeconds(3);

    readonly List<string> _injected = [];
    readonly List<Task> _ending = [];
    int _next;

    public string Name => "broker faults";

    public IReadOnlyList<string> Injected => _injected;

    public int ExpectedExits => 0;

    public Task AtAsync(long sent, FaultContext context, CancellationToken cancellationToken)
    {
        var broker = context.Broker;
        while (_next < 6 && sent >= context.TotalMessages * (_next + 1) / 7)
        {
            var at = string.Create(CultureInfo.InvariantCulture, $"after {sent:N0} messages");
            switch (_next++)
            {
                case 0:
                    broker.SetBrokerDown(1);
                    _injected.Add($"broker 1 down for {Lasting.TotalSeconds:0} s {at}");
                    _ending.Add(Later(() => broker.SetBrokerUp(1), cancellationToken));
                    break;
                case 1:
                    foreach (var topic in new[] { Topics.Signals, Topics.PhaseChanges, Topics.SignalsDeadLetter })
                    {
                        for (var partition = 0; partition < context.Partitions; partition++)
                        {
                            broker.SetPartitionLeader(topic, partition, (partition + 1) % broker.BrokerIds.Count + 1);
                        }
                    }
                    _injected.Add($"the leader of every partition moved to another broker {at}");
                    break;
                case 2:
                    Push(broker, KafkaApiKey.Produce, at, ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut, ErrorCode.NotEnoughReplicas, ErrorCode.LeaderNotAvailable);
                    break;
                case 3:
                    Push(broker, KafkaApiKey.Fetch, at, ErrorCode.NotLeaderForPartition, ErrorCode.RequestTimedOut, ErrorCode.KafkaStorageError, ErrorCode.LeaderNotAvailable);
                    break;
                case 4:
                    Push(broker, KafkaApiKey.OffsetCommit, at, ErrorCode.GroupCoordinatorNotAvailable, ErrorCode.NotCoordinatorForGroup, ErrorCode.RequestTimedOut, ErrorCode.RebalanceInProgress);
                    break;
                case 5:
                    foreach (var id in broker.BrokerIds)
                    {
                        broker.SetBrokerRoundTrip(id, TimeSpan.FromMilliseconds(500));
                    }
                    _injected.Add($"500 ms round trip on every broker for {Lasting.TotalSeconds:0} s {at}");
                    _ending.Add(Later(() => broker.BrokerIds.ToList().ForEach(id => broker.SetBrokerRoundTrip(id, TimeSpan.Zero)), cancellationToken));
                    break;
            }
        }
        return Task.CompletedTask;
    }

    public async Task FinishAsync(FaultContext context, CancellationToken cancellationToken)
    {
        await Task.WhenAll(_ending);
        foreach (var request in new[] { KafkaApiKey.Produce, KafkaApiKey.Fetch, KafkaApiKey.OffsetCommit })
        {
            context.Broker.ClearRequestErrors(request);
        }
    }

    void Push(EmbeddedKafkaCluster broker, KafkaApiKey request, string at, params ErrorCode[] errors)
    {
        // Each error three times over: the next 12 such requests fail, whichever client sends them.
        var stack = Enumerable.Repeat(errors, 3).SelectMany(e => e).ToArray();
        broker.PushRequestErrors(request, stack);
        _injected.Add($"{stack.Length} {request} requests answered with errors ({string.Join(", ", errors)}) {at}");
    }

    static Task Later(Action action, CancellationToken cancellationToken) =>
        Task.Delay(Lasting, cancellationToken).ContinueWith(_ => action(), cancellationToken, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
}
