using Npgsql;

namespace Streaming.EventStore;

/// <summary>
/// Where each tailing reader has got to in each log partition, saved in the reader's own transaction with compare-and-set
/// per partition (one row per reader and partition; a log of one partition has the reader's one row, partition 0).
/// </summary>
public static class Checkpoints
{
    /// <summary>
    /// Takes the reader's lock until the transaction ends, then loads its checkpoint of each partition of
    /// <paramref name="partitions"/> that has one: another instance of the same reader waits here until this transaction
    /// ends and then sees where it got to. Writes nothing, so a handler that appends to streams afterwards still does so
    /// before the transaction's first write.
    /// </summary>
    public static async Task<IReadOnlyDictionary<int, TailPosition>> ClaimAsync(
        NpgsqlTransaction transaction, string name, IEnumerable<int> partitions, CancellationToken cancellationToken)
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
                new NpgsqlBatchCommand(LoadSql)
                {
                    Parameters =
                    {
                        new NpgsqlParameter<string> { TypedValue = name },
                        new NpgsqlParameter<int[]> { TypedValue = [.. partitions] },
                    },
                },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        var positions = new Dictionary<int, TailPosition>();
        while (await reader.ReadAsync(cancellationToken))
        {
            positions[reader.GetInt32(0)] = new TailPosition(reader.GetInt64(1), reader.GetInt64(2));
        }
        return positions;
    }

    const string LoadSql = "select partition, commit, position from es.checkpoints where name = $1 and partition = any($2)";

    // One round trip for every partition: the new rows, the moves that found their expected position, and back the
    // partitions that did neither (in order).
    const string SavePartitionsSql = """
        with input as (
            select * from unnest($2::int[], $3::bigint[], $4::bigint[], $5::bool[], $6::bigint[], $7::bigint[])
                     as n(partition, commit, position, fresh, expected_commit, expected_position)
        ),
        inserted as (
            insert into es.checkpoints (name, partition, commit, position)
            select $1, i.partition, i.commit, i.position from input i where i.fresh
            on conflict do nothing
            returning partition
        ),
        moved as (
            update es.checkpoints k set commit = i.commit, position = i.position, updated_at = now()
              from input i
             where not i.fresh and k.name = $1 and k.partition = i.partition
               and k.commit = i.expected_commit and k.position = i.expected_position
            returning k.partition
        )
        select i.partition from input i
         where i.partition not in (select partition from inserted union all select partition from moved)
         order by i.partition
        """;

    /// <summary>The saved position of each partition of <paramref name="partitions"/> that has one.</summary>
    public static async Task<IReadOnlyDictionary<int, TailPosition>> LoadAsync(
        NpgsqlConnection connection, string name, IEnumerable<int> partitions, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(LoadSql, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. partitions] });
        return await ReadPartitionsAsync(command, cancellationToken);
    }

    /// <summary>
    /// Moves the checkpoint of every partition of <paramref name="next"/> from its <paramref name="expected"/> position
    /// (a partition missing there: none saved yet) in one statement; throws <see cref="CheckpointConflictException"/>
    /// naming the first partition found elsewhere, which the caller answers by rolling back. A partition that did not
    /// move is checked all the same, so an instance fenced on any partition writes nothing.
    /// </summary>
    public static async Task SaveAsync(
        NpgsqlTransaction transaction, string name, IReadOnlyDictionary<int, TailPosition> expected, LogPositions next, CancellationToken cancellationToken)
    {
        if (await ConflictsAsync(transaction, name, expected, next, cancellationToken) is { Count: > 0 } conflicts)
        {
            var partition = conflicts.Keys.First();
            throw new CheckpointConflictException(
                name, expected.TryGetValue(partition, out var from) ? from : null, conflicts[partition], partition, [.. conflicts.Keys]);
        }
    }

    /// <summary>
    /// As <see cref="SaveAsync"/>, as the transaction's first write. When <paramref name="retrying"/> (the same move failed
    /// before, perhaps after its commit) and every partition found elsewhere is at <paramref name="next"/> already, that
    /// earlier attempt committed although its acknowledgement was lost: nothing is written and false comes back, and the
    /// caller rolls back and counts the work done.
    /// </summary>
    public static async Task<bool> AdvanceAsync(
        NpgsqlTransaction transaction, string name, IReadOnlyDictionary<int, TailPosition> expected, LogPositions next, bool retrying,
        CancellationToken cancellationToken)
    {
        var conflicts = await ConflictsAsync(transaction, name, expected, next, cancellationToken);
        if (conflicts.Count == 0)
        {
            return true;
        }
        if (retrying && conflicts.All(c => c.Value == next[c.Key]))
        {
            return false;
        }
        var partition = conflicts.First(c => !(retrying && c.Value == next[c.Key])).Key;
        throw new CheckpointConflictException(name, expected.TryGetValue(partition, out var from) ? from : null, conflicts[partition], partition,
            [.. conflicts.Where(c => !(retrying && c.Value == next[c.Key])).Select(c => c.Key)]);
    }

    // The partitions whose checkpoint was not where expected, with where it is (null: none saved).
    static async Task<SortedDictionary<int, TailPosition?>> ConflictsAsync(
        NpgsqlTransaction transaction, string name, IReadOnlyDictionary<int, TailPosition> expected, LogPositions next, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(next);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is already completed");
        var partitions = next.Partitions.ToArray();
        await using var command = new NpgsqlCommand(SavePartitionsSql, connection, transaction)
        {
            Parameters =
            {
                new NpgsqlParameter<string> { TypedValue = name },
                new NpgsqlParameter<int[]> { TypedValue = partitions },
                new NpgsqlParameter<long[]> { TypedValue = [.. partitions.Select(p => next[p].Commit)] },
                new NpgsqlParameter<long[]> { TypedValue = [.. partitions.Select(p => next[p].GlobalPosition)] },
                new NpgsqlParameter<bool[]> { TypedValue = [.. partitions.Select(p => !expected.ContainsKey(p))] },
                new NpgsqlParameter<long[]> { TypedValue = [.. partitions.Select(p => expected.TryGetValue(p, out var at) ? at.Commit : 0)] },
                new NpgsqlParameter<long[]> { TypedValue = [.. partitions.Select(p => expected.TryGetValue(p, out var at) ? at.GlobalPosition : 0)] },
            },
        };
        var failed = new List<int>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                failed.Add(reader.GetInt32(0));
            }
        }
        var conflicts = new SortedDictionary<int, TailPosition?>();
        if (failed.Count == 0)
        {
            return conflicts;
        }
        await using var current = new NpgsqlCommand(
            "select partition, commit, position from es.checkpoints where name = $1 and partition = any($2)", connection, transaction);
        current.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        current.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. failed] });
        var found = await ReadPartitionsAsync(current, cancellationToken);
        foreach (var partition in failed)
        {
            conflicts[partition] = found.TryGetValue(partition, out var at) ? at : null;
        }
        return conflicts;
    }

    static async Task<Dictionary<int, TailPosition>> ReadPartitionsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var positions = new Dictionary<int, TailPosition>();
        while (await reader.ReadAsync(cancellationToken))
        {
            positions[reader.GetInt32(0)] = new TailPosition(reader.GetInt64(1), reader.GetInt64(2));
        }
        return positions;
    }
}
