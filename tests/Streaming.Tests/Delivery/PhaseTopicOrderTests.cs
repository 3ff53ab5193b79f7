using System.Text;
using Confluent.Kafka;
using Streaming.Contracts;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Delivery;

public sealed class PhaseTopicOrderTests(RelayHost relay) : IClassFixture<RelayHost>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_consumer_group_sees_each_jobs_changes_in_order_across_rebalances()
    {
        // Given ten decisions for each of twenty jobs, published by the relay to job-phase-changes
        var jobs = Enumerable.Range(1, 20).Select(i => $"order-{i}-{Guid.NewGuid():N}").ToList();
        var recorded = await RecordedDecisions.AppendAsync(relay.Streams, jobs, 10);
        var expected = recorded.Values.SelectMany(ids => ids).ToHashSet();

        // When a downstream group processes them one at a time, committing each: the first member alone, then a
        // second member joins (a rebalance), then the first leaves (another)
        var group = "downstream-" + Guid.NewGuid().ToString("N");
        var processed = new List<PhaseChangedMessage>();
        using var first = Member(group);
        using var second = Member(group);
        await Task.Run(() =>
        {
            ProcessUntil(() => processed.Count >= 60, [first], processed, "the first member's share");
            second.Subscribe(Topics.PhaseChanges);
            ProcessUntil(() => second.Assignment.Count > 0 && processed.Count >= 130, [first, second], processed, "the second member to join");
            first.Close();
            ProcessUntil(() => expected.IsSubsetOf(processed.Select(m => m.EventId)), [second], processed, "every change");
        });

        // Then every change was processed, and each job's changes were first processed in version order; a change
        // processed again (not committed before a rebalance) is a copy with its event id
        Assert.True(processed.Count >= expected.Count);
        foreach (var job in jobs)
        {
            var firstSeen = processed.Where(m => m.JobId == job).Select(m => m.EventId).Distinct().ToList();
            Assert.Equal(recorded[job], firstSeen);
        }
    }

    IConsumer<string, byte[]> Member(string group)
    {
        var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = relay.Kafka.BootstrapServers,
            GroupId = group,
            EnableAutoCommit = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            SessionTimeoutMs = 6000,
            HeartbeatIntervalMs = 500,
        }).Build();
        consumer.Subscribe(Topics.PhaseChanges);
        return consumer;
    }

    static void ProcessUntil(Func<bool> done, IConsumer<string, byte[]>[] members, List<PhaseChangedMessage> processed, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (!done())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up waiting for {what}; processed {processed.Count}");
            }
            foreach (var member in members)
            {
                if (member.Consume(TimeSpan.FromMilliseconds(20)) is { Message: not null } record)
                {
                    processed.Add(ContractsJson.Deserialize<PhaseChangedMessage>(Encoding.UTF8.GetString(record.Message.Value)));
                    try
                    {
                        member.Commit(record);
                    }
                    catch (KafkaException e) when (e.Error.Code is ErrorCode.RebalanceInProgress or ErrorCode.IllegalGeneration or ErrorCode.UnknownMemberId)
                    {
                        // Lost to the rebalance: whoever gets the partition next processes the record again.
                    }
                }
            }
        }
    }
}
