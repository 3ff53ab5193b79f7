using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Streaming.Contracts;

namespace Streaming.Chaos.Verification;

/// <summary>Everything on <c>job-phase-changes</c>, grouped by event id: each id's copies must be byte for byte the same.</summary>
public sealed class PublishedChanges
{
    readonly Dictionary<Guid, List<string>> _byEventId = [];

    public int Messages { get; private set; }

    public IReadOnlyDictionary<Guid, List<string>> ByEventId => _byEventId;

    /// <summary>Event ids published with more than one content.</summary>
    public int Conflicting => _byEventId.Values.Count(copies => copies.Distinct(StringComparer.Ordinal).Count() > 1);

    /// <summary>Reads the whole topic from its start until it has every one of <paramref name="expected"/> or <paramref name="timeout"/> passes.</summary>
    public static PublishedChanges Read(string bootstrapServers, int partitions, IReadOnlyCollection<Guid> expected, TimeSpan timeout)
    {
        var published = new PublishedChanges();
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "chaos-verifier-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnablePartitionEof = true,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(Topics.PhaseChanges, p, Offset.Beginning)));
        var deadline = DateTime.UtcNow + timeout;
        var atEnd = new HashSet<int>();
        while (DateTime.UtcNow < deadline && !(atEnd.Count == partitions && expected.All(published._byEventId.ContainsKey)))
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result is null)
            {
                continue;
            }
            if (result.IsPartitionEOF)
            {
                atEnd.Add(result.Partition.Value);
                continue;
            }
            atEnd.Remove(result.Partition.Value);
            published.Add(result.Message.Value ?? []);
        }
        consumer.Close();
        return published;
    }

    void Add(byte[] value)
    {
        Messages++;
        var text = Encoding.UTF8.GetString(value);
        using var json = JsonDocument.Parse(text);
        var eventId = json.RootElement.GetProperty("eventId").GetGuid();
        if (!_byEventId.TryGetValue(eventId, out var copies))
        {
            _byEventId[eventId] = copies = [];
        }
        copies.Add(text);
    }
}
