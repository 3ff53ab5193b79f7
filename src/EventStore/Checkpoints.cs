using Npgsql;

namespace Streaming.EventStore;

/// <summary>Where each tailing reader has got to, saved in the reader's own transaction with compare-and-set.</summary>
public static class Checkpoints
{
    /// <summary>The saved position, or null when the reader never saved one.</summary>
    public static async Task<TailPosition?> LoadAsync(NpgsqlConnection connection, string name, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select commit, position from es.checkpoints where name = $1", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        return await ReadAsync(command, cancellationToken);
    }

    /// <summary>
    /// Takes the reader's lock until the transaction ends, then loads its checkpoint: another instance of the same reader
    /// waits here until this transaction ends and then sees where it got to. Writes nothing, so a handler that appends
    /// to streams afterwards still does so before the transaction's first write.
    /// </summary>
    public static async Task<TailPosition?> ClaimAsync(NpgsqlTransaction transaction, string name, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is already completed");
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                // 1702035458 (0x65730002): the class of the readers' advisory locks, apart from the migration lock.
                new NpgsqlBatchCommand("select pg_advisory_xact_lock(1702035458, hashtext($1))")
                {
                    Parameters = { new NpgsqlParameter<string> { TypedValue = name } },
                },
                new NpgsqlBatchCommand("select commit, position from es.checkpoints where name = $1")
                {
                    Parameters = { new NpgsqlParameter<string> { TypedValue = name } },
                },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new TailPosition(reader.GetInt64(0), reader.GetInt64(1))
            : null;
    }

    /// <summary>
    /// Moves the checkpoint from <paramref name="expected"/> (null: none saved yet) to <paramref name="next"/>; throws
    /// <see cref="CheckpointConflictException"/> when it is elsewhere, which the caller answers by rolling back.
    /// </summary>
    public static async Task SaveAsync(
        NpgsqlTransaction transaction, string name, TailPosition? expected, TailPosition next, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is already completed");
        await using var command = new NpgsqlCommand(
            expected is null
                ? "insert into es.checkpoints (name, commit, position) values ($1, $2, $3) on conflict do nothing"
                : """
                  update es.checkpoints set commit = $2, position = $3, updated_at = now()
                  where name = $1 and commit = $4 and position = $5
                  """,
            connection,
            transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = next.Commit });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = next.GlobalPosition });
        if (expected is { } from)
        {
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from.Commit });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = from.GlobalPosition });
        }
        if (await command.ExecuteNonQueryAsync(cancellationToken) == 1)
        {
            return;
        }
        await using var current = new NpgsqlCommand("select commit, position from es.checkpoints where name = $1", connection, transaction);
        current.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        throw new CheckpointConflictException(name, expected, await ReadAsync(current, cancellationToken));
    }

    /// <summary>
    /// As <see cref="SaveAsync"/>, as the transaction's first write. When <paramref name="retrying"/> (the same move
    /// failed before, perhaps after its commit) and the checkpoint is at <paramref name="next"/> already, that earlier
    /// attempt committed although its acknowledgement was lost: nothing is written and false comes back, and the caller
    /// rolls back and counts the work done.
    /// </summary>
    public static async Task<bool> AdvanceAsync(
        NpgsqlTransaction transaction, string name, TailPosition? expected, TailPosition next, bool retrying, CancellationToken cancellationToken)
    {
        try
        {
            await SaveAsync(transaction, name, expected, next, cancellationToken);
            return true;
        }
        catch (CheckpointConflictException conflict) when (retrying && conflict.Actual == next)
        {
            return false;
        }
    }

    static async Task<TailPosition?> ReadAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new TailPosition(reader.GetInt64(0), reader.GetInt64(1))
            : null;
    }
}
