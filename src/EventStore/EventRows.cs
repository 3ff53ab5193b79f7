using Npgsql;

namespace Streaming.EventStore;

/// <summary>How events are selected and read back, shared by every reader.</summary>
internal static class EventRows
{
    public const string Columns =
        "global_position, tx_id, stream_id, version, event_id, type, data, metadata, seq, event_time, recorded_at";

    public static async Task<IReadOnlyList<RecordedEvent>> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var events = new List<RecordedEvent>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new RecordedEvent(
                reader.GetInt64(0),
                reader.GetFieldValue<ulong>(1),
                reader.GetString(2),
                reader.GetInt64(3),
                reader.GetGuid(4),
                reader.GetString(5),
                reader.GetString(6),
                reader.GetString(7),
                reader.IsDBNull(8) ? null : reader.GetInt64(8),
                reader.GetFieldValue<DateTimeOffset>(9),
                reader.GetFieldValue<DateTimeOffset>(10)));
        }
        return events;
    }
}
