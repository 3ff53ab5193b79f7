using Npgsql;
using NpgsqlTypes;

namespace Streaming.EventStore;

/// <summary>
/// The stream-head lock every append takes before it writes events, and the one place its rule lives; an append path
/// outside this library (Ingest's COPY) composes the same commands into its own transaction.
/// </summary>
/// <remarks>
/// The tail reads in commit order, so for every stream that order must agree with version order. Each append therefore
/// first locks its streams' rows in es.streams (sorted, so writers never deadlock), creating rows for new streams, and
/// reads the version under that lock; the lock is held until commit, and the commit is recorded last (LogCommit), so
/// whoever appends version v+1 records its commit after whoever appended v has committed. Row locks, unlike advisory
/// locks on hash buckets, let batches for disjoint streams run in parallel and need no room in the server's shared lock
/// table.
/// </remarks>
public static class StreamLock
{
    // for no key update: all the head update needs, and it does not block the foreign-key-free readers of es.streams.
    // The ids are joined, not matched with = any($1): a row another writer moved while this one waited for it is checked
    // again (EvalPlanQual), and an index scan over = any($1) sorts the whole array at each such check, so locking 10,000
    // heads behind an Ingest batch burned seconds of the backend's CPU (README, "Several instances and a sharded fleet").
    const string HeadsSql = """
        select stream_id, version, last_seq, partition
        from es.streams where stream_id in (select unnest($1::text[])) order by stream_id for no key update
        """;

    const string CreateSql = """
        insert into es.streams (stream_id, version)
        select s, 0 from unnest($1::text[]) s order by s
        on conflict (stream_id) do nothing
        """;

    const string MoveSql = "select stream_id, previous_version, previous_last_seq, partition, version, last_seq from es.move_heads($1, $2, $3, $4)";

    /// <summary>
    /// Locks the rows of the streams that exist, in order, and moves each head past its stream's seqs in
    /// <paramref name="risingSeqs"/> that are above its last seq, in one write per row (es.move_heads); returns each head
    /// before and after the move (<see cref="ReadMovesAsync"/>). Each stream's seqs must rise; the stream's version grows
    /// by how many of them are above its last seq. Streams without a row are created next (<see cref="Create"/>), in
    /// order, then moved the same way.
    /// </summary>
    public static NpgsqlBatchCommand Move(IReadOnlyDictionary<string, List<long>> risingSeqs)
    {
        ArgumentNullException.ThrowIfNull(risingSeqs);
        var ids = new string[risingSeqs.Count];
        var firsts = new int[risingSeqs.Count];
        var counts = new int[risingSeqs.Count];
        var seqs = new List<long>(risingSeqs.Count);
        var i = 0;
        foreach (var (id, rising) in risingSeqs)
        {
            (ids[i], firsts[i], counts[i]) = (id, seqs.Count + 1, rising.Count);
            seqs.AddRange(rising);
            i++;
        }
        return new NpgsqlBatchCommand(MoveSql)
        {
            Parameters =
            {
                new NpgsqlParameter<string[]> { TypedValue = ids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<int[]> { TypedValue = firsts },
                new NpgsqlParameter<int[]> { TypedValue = counts },
                new NpgsqlParameter<long[]> { TypedValue = [.. seqs] },
            },
        };
    }

    /// <summary>Reads the result of <see cref="Move"/>: each stream's head before the move and after it.</summary>
    public static async Task ReadMovesAsync(
        NpgsqlDataReader reader, IDictionary<string, StreamHead> before, IDictionary<string, StreamHead> after, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetString(0);
            var partition = reader.GetInt32(3);
            before[id] = new StreamHead(reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2), partition);
            after[id] = new StreamHead(reader.GetInt64(4), reader.IsDBNull(5) ? null : reader.GetInt64(5), partition);
        }
    }

    /// <summary>
    /// Creates the streams of <paramref name="risingSeqs"/> that <see cref="Move"/> did not find and moves their heads
    /// (<see cref="Move"/> moved the others), adding their heads before and after.
    /// </summary>
    public static async Task MoveCreatedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyDictionary<string, List<long>> risingSeqs,
        IDictionary<string, StreamHead> before, IDictionary<string, StreamHead> after, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(risingSeqs);
        ArgumentNullException.ThrowIfNull(before);
        var created = risingSeqs.Where(s => !before.ContainsKey(s.Key)).OrderBy(s => s.Key, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);
        if (created.Count == 0)
        {
            return;
        }
        await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { Create(created.Keys), Move(created) } };
        // The insert returns no rows, so the reader starts at the moves.
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await ReadMovesAsync(reader, before, after, cancellationToken);
    }

    /// <summary>
    /// Locks the rows of the streams that exist, in order, and returns each one's head (<see cref="ReadHeadsAsync"/>). Streams without a row are created next (<see cref="Create"/>), in
    /// order, then locked the same way.
    /// </summary>
    public static NpgsqlBatchCommand Heads(IReadOnlyCollection<string> streamIds) => WithStreamIds(HeadsSql, streamIds);

    /// <summary>Creates the rows of new streams, in order; returns no rows.</summary>
    public static NpgsqlBatchCommand Create(IReadOnlyCollection<string> streamIds) => WithStreamIds(CreateSql, streamIds);

    /// <summary>Reads the result of <see cref="Heads"/> into <paramref name="heads"/>.</summary>
    public static async Task ReadHeadsAsync(NpgsqlDataReader reader, IDictionary<string, StreamHead> heads, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(heads);
        while (await reader.ReadAsync(cancellationToken))
        {
            heads[reader.GetString(0)] = new StreamHead(reader.GetInt64(1), reader.IsDBNull(2) ? null : reader.GetInt64(2), reader.GetInt32(3));
        }
    }

    /// <summary>
    /// Locks every stream in <paramref name="streamIds"/>, creating the new ones, and returns their heads.
    /// </summary>
    public static async Task<Dictionary<string, StreamHead>> LockAsync(
        NpgsqlTransaction transaction, IEnumerable<string> streamIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is already completed");
        var ids = streamIds.Distinct(StringComparer.Ordinal).ToArray();
        var heads = new Dictionary<string, StreamHead>(ids.Length, StringComparer.Ordinal);
        if (ids.Length == 0)
        {
            return heads;
        }
        await LockExistingAsync(connection, transaction, ids, heads, cancellationToken);
        await LockCreatedAsync(connection, transaction, ids, heads, cancellationToken);
        return heads;
    }

    /// <summary>
    /// Creates and locks the streams of <paramref name="streamIds"/> that <see cref="Heads"/> did not find (it locked
    /// the others), adding their heads.
    /// </summary>
    public static async Task LockCreatedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<string> streamIds, IDictionary<string, StreamHead> heads,
        CancellationToken cancellationToken)
    {
        var created = streamIds.Where(id => !heads.ContainsKey(id)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (created.Length == 0)
        {
            return;
        }
        await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { Create(created), Heads(created) } };
        // The insert returns no rows, so the reader starts at the heads.
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await ReadHeadsAsync(reader, heads, cancellationToken);
    }

    static async Task LockExistingAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string[] ids, Dictionary<string, StreamHead> heads, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { Heads(ids) } };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await ReadHeadsAsync(reader, heads, cancellationToken);
    }

    static NpgsqlBatchCommand WithStreamIds(string sql, IReadOnlyCollection<string> streamIds) =>
        new(sql) { Parameters = { new NpgsqlParameter<string[]> { TypedValue = [.. streamIds], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text } } };
}
