using Npgsql;

namespace Streaming.EventStore;

/// <summary>
/// Reads the whole log: the commit-ordered tail of a set of partitions for live readers, and global-position order for
/// replays of a quiet log.
/// </summary>
public sealed class EventLog(NpgsqlDataSource dataSource)
{
    // Commits become visible in commit-number order within a partition (every appending transaction records its commit
    // in each partition it appended to last, under that partition's head row lock, which PostgreSQL releases only once
    // the commit is visible), so nothing can still appear below the last commit this read returns: no horizon, no waiting
    // for any other transaction, and a transaction holding one partition's head delays no other partition's reader.
    // This is the one place the tail is read: every fold, rebuild and backtest goes through it.

    // Each partition of $1 after its own position ($2 commits, $3 positions), at most $4 events from each, in one round
    // trip: grouped by partition (in partition order, so the control partition, 0, comes first), in commit order within
    // each. es.read_tail walks a partition's commits and takes each one's events by index until it has its count, so a
    // read costs what it returns however far behind the head its reader is (migration 30; README, Performance).
    const string TailFrom = """
          from unnest($1::int[], $2::bigint[], $3::bigint[]) as a(partition, commit, position)
         cross join lateral es.read_tail(a.partition, a.commit, a.position, $4) t
         order by t.partition, t.commit, t.global_position
        """;

    const string TailSql = """
        select t.global_position, t.commit, t.stream_id, t.version, t.event_id, t.type, t.data, t.metadata, t.seq,
               t.event_time, t.recorded_at, t.committed_at, t.partition
        """ + TailFrom;

    // For readers that decode bodies themselves: the body as UTF-8 bytes, no metadata.
    const string TailBodiesSql = """
        select t.global_position, t.commit, t.stream_id, t.version, t.event_id, t.type, t.data, t.seq, t.event_time,
               t.recorded_at, t.committed_at, t.partition
        """ + TailFrom;

    /// <summary>
    /// The next committed events of every partition of <paramref name="after"/>, each after its own position and at most
    /// <paramref name="maxPerPartition"/> from each, in one query: grouped by partition in partition order, in commit
    /// order (by commit number, then global position) within each. Never skips an event that commits late; per stream it
    /// is in version order. A long transaction holding one partition's head delays no other partition's events.
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadTailAsync(LogPositions after, int maxPerPartition, CancellationToken cancellationToken)
    {
        await using var command = TailCommand(after, maxPerPartition, bodies: false);
        return await EventRows.ReadAsync(command, cancellationToken);
    }

    /// <summary>
    /// As <see cref="ReadTailAsync(LogPositions, int, CancellationToken)"/>, handing each event to <paramref name="onEvent"/>
    /// with its body as UTF-8 JSON instead of text (the envelope's <see cref="RecordedEvent.Data"/> is empty and its
    /// metadata is not read): for readers that decode bodies themselves. Returns how many events were read.
    /// </summary>
    public async Task<int> ReadTailAsync(LogPositions after, int maxPerPartition, Action<RecordedEvent, byte[]> onEvent, CancellationToken cancellationToken)
    {
        await using var command = TailCommand(after, maxPerPartition, bodies: true);
        return await ReadBodiesAsync(command, onEvent, cancellationToken);
    }

    NpgsqlCommand TailCommand(LogPositions after, int maxPerPartition, bool bodies)
    {
        ArgumentNullException.ThrowIfNull(after);
        ArgumentOutOfRangeException.ThrowIfNegative(maxPerPartition);
        var command = dataSource.CreateCommand(bodies ? TailBodiesSql : TailSql);
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. after.Partitions] });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. after.Select(p => p.Value.Commit)] });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. after.Select(p => p.Value.GlobalPosition)] });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxPerPartition });
        return command;
    }

    static async Task<int> ReadBodiesAsync(NpgsqlCommand command, Action<RecordedEvent, byte[]> onEvent, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var count = 0;
        while (await reader.ReadAsync(cancellationToken))
        {
            var envelope = new RecordedEvent(
                reader.GetInt64(0),
                reader.GetInt64(1),
                reader.GetString(2),
                reader.GetInt64(3),
                reader.GetGuid(4),
                reader.GetString(5),
                "",
                "{}",
                reader.IsDBNull(7) ? null : reader.GetInt64(7),
                reader.GetFieldValue<DateTimeOffset>(8),
                reader.GetFieldValue<DateTimeOffset>(9))
            {
                CommittedAt = reader.GetFieldValue<DateTimeOffset>(10),
                Partition = reader.GetInt32(11),
            };
            onEvent(envelope, reader.GetFieldValue<byte[]>(6));
            count++;
        }
        return count;
    }

    /// <summary>
    /// Where the tail of each partition of <paramref name="partitions"/> ends now (its start when it is empty): every event
    /// after it commits later, so a reader that starts here misses nothing from this moment on.
    /// </summary>
    public async Task<LogPositions> ReadTailEndAsync(IEnumerable<int> partitions, CancellationToken cancellationToken)
    {
        var ends = LogPositions.Start(partitions);
        await using var command = dataSource.CreateCommand("""
            select p.partition, last.commit, last.global_position
              from unnest($1::int[]) p(partition)
              cross join lateral (
                  select c.commit, e.global_position
                    from (select commit, tx_id from es.commits where partition = p.partition order by commit desc limit 1) c
                    join es.events e on e.tx_id = c.tx_id and e.partition = p.partition
                   order by e.global_position desc
                   limit 1) last
            """);
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. ends.Partitions] });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            ends = ends.With(reader.GetInt32(0), new TailPosition(reader.GetInt64(1), reader.GetInt64(2)));
        }
        return ends;
    }

    /// <summary>
    /// True when <paramref name="commit"/> of <paramref name="partition"/>, a commit a reader has read, is still in the log
    /// as it was read. False means the log lost commits and reused their numbers (a crash of PostgreSQL lost asynchronous
    /// commits): the reader's state is ahead of the log and it must stop (README, Architecture). Commit 0 (the start)
    /// always holds.
    /// </summary>
    public async Task<bool> VerifyCommitAsync(int partition, long commit, DateTimeOffset committedAt, CancellationToken cancellationToken)
    {
        if (commit == 0)
        {
            return true;
        }
        await using var command = dataSource.CreateCommand("select committed_at from es.commits where partition = $1 and commit = $2");
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = commit });
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime found
            && new DateTimeOffset(found, TimeSpan.Zero) == committedAt.ToUniversalTime();
    }

    /// <summary>
    /// Events after <paramref name="fromGlobalPositionExclusive"/> in global-position order. Positions are taken before
    /// commit, so while writers are active a later read can still find lower positions: live readers use the tail.
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadAllForwardAsync(long fromGlobalPositionExclusive, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        await using var command = dataSource.CreateCommand(
            "select " + EventRows.Columns + EventRows.From + "where e.global_position > $1 order by e.global_position limit $2");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = fromGlobalPositionExclusive });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        return await EventRows.ReadAsync(command, cancellationToken);
    }

    /// <summary>
    /// Every event of the streams whose ids start with <paramref name="streamIdPrefix"/>, committed at or before
    /// <paramref name="upTo"/> in the control partition (<see cref="LogPartitioner.ControlPartition"/>, where such streams
    /// live), in commit order: the control events (such as policies) a reader resuming there must know.
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamsUpToAsync(string streamIdPrefix, TailPosition upTo, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select " + EventRows.Columns + EventRows.From + """
            where e.stream_id = any(array(select stream_id from es.streams where starts_with(stream_id, $1)))
              and c.partition = 0 and (c.commit, e.global_position) <= ($2, $3)
            order by c.commit, e.global_position
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = streamIdPrefix });
        AddPosition(command, upTo);
        return await EventRows.ReadAsync(command, cancellationToken);
    }

    static void AddPosition(NpgsqlCommand command, TailPosition after)
    {
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.Commit });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.GlobalPosition });
    }
}
