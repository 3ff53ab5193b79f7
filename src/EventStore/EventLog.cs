using Npgsql;

namespace Streaming.EventStore;

/// <summary>
/// Reads the whole log: the commit-ordered tail for live readers (per partition; the single-position reads follow partition
/// 0, the whole log while it has one), and global-position order for replays of a quiet log.
/// </summary>
public sealed class EventLog(NpgsqlDataSource dataSource)
{
    // Commits become visible in commit-number order (every appending transaction records its commit last, under the log
    // head's row lock, which PostgreSQL releases only once the commit is visible), so nothing can still appear below the
    // last commit this read returns: no horizon, no waiting for any other transaction. es.read_tail (partition $4, after
    // ($1 commit, $2 position), at most $3 events) walks the partition's commits and takes each one's events by index until
    // it has enough, so a read costs what it returns however far behind the head its reader is (migration 30).
    const string TailSql = """
        select global_position, commit, stream_id, version, event_id, type, data, metadata, seq, event_time, recorded_at,
               committed_at, partition
          from es.read_tail($4, $1, $2, $3)
         order by commit, global_position
        """;

    // The same read for readers that decode bodies themselves: the body as UTF-8 bytes, no metadata.
    const string TailBodiesSql = """
        select global_position, commit, stream_id, version, event_id, type, data, seq, event_time, recorded_at, committed_at,
               partition
          from es.read_tail($4, $1, $2, $3)
         order by commit, global_position
        """;

    // The same read for a set of partitions, each after its own position ($1 partitions, $2 commits, $3 positions) and
    // at most $4 events from each, in one round trip: per partition in its commit order.
    const string PartitionsTailSql = """
        select t.global_position, t.commit, t.stream_id, t.version, t.event_id, t.type, t.data, t.seq, t.event_time,
               t.recorded_at, t.committed_at, t.partition
          from unnest($1::int[], $2::bigint[], $3::bigint[]) as a(partition, commit, position)
         cross join lateral es.read_tail(a.partition, a.commit, a.position, $4) t
         order by t.partition, t.commit, t.global_position
        """;

    /// <summary>
    /// The next committed events after <paramref name="after"/> in commit order (by commit number, then global position).
    /// Never skips an event that commits late; per stream it is in version order.
    /// </summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadTailAsync(TailPosition after, int maxCount, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(TailSql);
        AddTailParameters(command, after, maxCount);
        return await EventRows.ReadAsync(command, cancellationToken);
    }

    /// <summary>
    /// As <see cref="ReadTailAsync(TailPosition, int, CancellationToken)"/>, handing each event to <paramref name="onEvent"/>
    /// with its body as UTF-8 JSON instead of text (the envelope's <see cref="RecordedEvent.Data"/> is empty and its
    /// metadata is not read): for readers that decode bodies themselves. Returns how many events were read.
    /// </summary>
    public async Task<int> ReadTailAsync(TailPosition after, int maxCount, Action<RecordedEvent, byte[]> onEvent, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(TailBodiesSql);
        AddTailParameters(command, after, maxCount);
        return await ReadBodiesAsync(command, onEvent, cancellationToken);
    }

    /// <summary>
    /// As <see cref="ReadTailAsync(TailPosition, int, Action{RecordedEvent, byte[]}, CancellationToken)"/> for every
    /// partition of <paramref name="after"/>, each after its own position and at most <paramref name="maxPerPartition"/>
    /// events from each, in one query: grouped by partition, in commit order within each. A long transaction holding
    /// one partition's head delays no other partition's events.
    /// </summary>
    public async Task<int> ReadTailAsync(LogPositions after, int maxPerPartition, Action<RecordedEvent, byte[]> onEvent, CancellationToken cancellationToken)
    {
        await using var command = PartitionsTailCommand(after, maxPerPartition);
        return await ReadBodiesAsync(command, onEvent, cancellationToken);
    }

    /// <summary>As <see cref="ReadTailAsync(LogPositions, int, Action{RecordedEvent, byte[]}, CancellationToken)"/>, the bodies as text (no metadata).</summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadTailAsync(LogPositions after, int maxPerPartition, CancellationToken cancellationToken)
    {
        var events = new List<RecordedEvent>();
        await ReadTailAsync(after, maxPerPartition, (envelope, body) => events.Add(envelope with { Data = System.Text.Encoding.UTF8.GetString(body) }), cancellationToken);
        return events;
    }

    NpgsqlCommand PartitionsTailCommand(LogPositions after, int maxPerPartition)
    {
        ArgumentNullException.ThrowIfNull(after);
        ArgumentOutOfRangeException.ThrowIfNegative(maxPerPartition);
        var command = dataSource.CreateCommand(PartitionsTailSql);
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
    /// Where the tail ends now: every event after it commits later, so a reader that starts here misses nothing from this
    /// moment on. <see cref="TailPosition.Start"/> for an empty log.
    /// </summary>
    public async Task<TailPosition> ReadTailEndAsync(CancellationToken cancellationToken) =>
        (await ReadTailEndAsync([0], cancellationToken))[0];

    /// <summary>Where the tail of each partition of <paramref name="partitions"/> ends now (its start when it is empty).</summary>
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

    /// <summary>As <see cref="ReadTailAsync(TailPosition, int, CancellationToken)"/>, on the caller's connection and transaction.</summary>
    public static async Task<IReadOnlyList<RecordedEvent>> ReadTailAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, TailPosition after, int maxCount, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(TailSql, connection, transaction);
        AddTailParameters(command, after, maxCount);
        return await EventRows.ReadAsync(command, cancellationToken);
    }

    /// <summary>
    /// True when <paramref name="read"/>, a commit a reader has read, is still in the log as it was read. False means the
    /// log lost commits and reused their numbers (a crash of PostgreSQL lost asynchronous commits): the reader's state
    /// is ahead of the log and it must stop (README, Architecture). <see cref="TailPosition.Start"/> always holds.
    /// </summary>
    public Task<bool> VerifyCommitAsync(long commit, DateTimeOffset committedAt, CancellationToken cancellationToken) =>
        VerifyCommitAsync(0, commit, committedAt, cancellationToken);

    /// <summary>As <see cref="VerifyCommitAsync(long, DateTimeOffset, CancellationToken)"/>, for a commit of <paramref name="partition"/>.</summary>
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

    // The single-position reads follow partition 0: the whole log while it has one partition.
    static void AddTailParameters(NpgsqlCommand command, TailPosition after, int maxCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        AddPosition(command, after);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = 0 });
    }

    static void AddPosition(NpgsqlCommand command, TailPosition after)
    {
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.Commit });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.GlobalPosition });
    }
}
