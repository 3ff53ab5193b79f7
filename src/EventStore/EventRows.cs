using Npgsql;

namespace Streaming.EventStore;

/// <summary>How events are selected and read back, shared by every reader.</summary>
internal static class EventRows
{
    /// <summary>The columns <see cref="ReadAsync"/> reads, from <see cref="From"/>.</summary>
    public const string Columns =
        "e.global_position, c.commit, e.stream_id, e.version, e.event_id, e.type, e.data, e.metadata, e.seq, e.event_time, e.recorded_at, c.committed_at, c.partition";

    /// <summary>Committed events with their commits (one per partition the transaction appended to): an event without a commit row is not committed yet.</summary>
    public const string From = " from es.commits c join es.events e on e.tx_id = c.tx_id and e.partition = c.partition ";

    public static async Task<IReadOnlyList<RecordedEvent>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<RecordedEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new RecordedEvent(
                reader.GetInt64(0),
                reader.GetInt64(1),
                reader.GetString(2),
                reader.GetInt64(3),
                reader.GetGuid(4),
                reader.GetString(5),
                reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetInt64(8),
                reader.GetFieldValue<DateTimeOffset>(9),
                reader.GetFieldValue<DateTimeOffset>(10))
            {
                CommittedAt = reader.GetFieldValue<DateTimeOffset>(11),
                Partition = reader.GetInt32(12),
            });
        }
        return events;
    }
}
