using Npgsql;

namespace Streaming.Projections;

/// <summary>Writes <see cref="PoisonedEvent"/>s to <c>es.poisoned_events</c> (schema migration 9), once each.</summary>
public static class PoisonedEvents
{
    /// <summary>Records the events in the caller's transaction, the one that moves the fold's checkpoint past them.</summary>
    public static async Task RecordAsync(NpgsqlTransaction transaction, IReadOnlyCollection<PoisonedEvent> poisoned, CancellationToken cancellationToken)
    {
        if (poisoned.Count == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand(
            """
            insert into es.poisoned_events (fold, commit, global_position, stream_id, version, event_type, error, partition)
            select * from unnest($1, $2, $3, $4, $5, $6, $7, $8)
            on conflict do nothing
            """, transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. poisoned.Select(p => p.Fold)] });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. poisoned.Select(p => p.Position.Commit)] });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. poisoned.Select(p => p.Position.GlobalPosition)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. poisoned.Select(p => p.StreamId)] });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. poisoned.Select(p => p.Version)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. poisoned.Select(p => p.EventType)] });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. poisoned.Select(p => p.Error)] });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. poisoned.Select(p => p.Partition)] });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
