using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using NpgsqlTypes;
using Streaming.Contracts.History;
using Streaming.EventStore;

namespace Streaming.Ingest.Appending;

/// <summary>
/// Ingest's write path: appends a consumed batch of signals and moves the Kafka offsets that produced it, in one
/// transaction. A signal is stored at most once per (stream, seq): only with a seq above its stream's last, read under
/// the stream's lock; its event id must be the one derived from (stream, seq) (<see cref="EventIds.ForSignal"/>), so
/// signals' ids are unique too.
/// </summary>
/// <remarks>
/// An append costs little more than a COPY of its events (README, Performance), in two round trips: the first promises
/// the commit record, locks the existing streams' rows in order and moves their heads in the same write, returning the
/// heads they replaced (<see cref="StreamLock.Move"/>, the store's one lock rule), and moves the offsets by
/// compare-and-set (a second creates the rows of new streams, only when there are some, and a repeated seq's stored body
/// is looked up only for repeats); the client classifies each signal against the heads as they were
/// (<see cref="SignalClassification"/>), which must agree with where the store moved them; the last inserts the new
/// events, records the commit, which also wakes the log's listeners, and commits
/// (<see cref="SignalAppend.RecordAndCommitAsync"/>). A batch of more than <see cref="MaxInsertedWithCommit"/> new
/// events is written by a binary COPY of its own instead, before the last round trip.
/// </remarks>
public sealed partial class SignalLog(NpgsqlDataSource dataSource, ILogger<SignalLog>? logger = null)
{
    readonly ILogger _logger = logger ?? NullLogger<SignalLog>.Instance;

    // A signal's seq rises with its version within its stream, so the stream's (stream_id, version) index is walked back
    // from the end to the first signal at or below the seq: the stored repeat when its seq is that seq, else the seq was
    // never stored. A repeat is usually recent, so the walk is short.
    const string StoredBodiesSql = """
        select l.ord, e.data
        from unnest($1::text[], $2::bigint[]) with ordinality as l(stream_id, seq, ord)
        cross join lateral (
            select s.seq, s.data from es.events s
            where s.stream_id = l.stream_id and s.seq <= l.seq
            order by s.version desc limit 1
        ) e
        where e.seq = l.seq
        """;

    // Far above a batch's own pauses between round trips; a dead letter waiting longer for the broker reruns the batch.
    const string IdleTransactionLimit = "set local idle_in_transaction_session_timeout = '5s'";

    // The idle limit never ends a writer stopped while the server waits on it inside a statement (mid-COPY, or between
    // the messages of a batch), and no statement limit does either: the server handles a cancel only between commands.
    // So a writer that has waited this long for a lock ends the writers stuck that way (EndStoppedWritersSql) and reruns.
    const string LockLimit = "set local lock_timeout = '5s'";

    // Writers of this database and role holding stream heads or offsets, in a statement begun 2 s ago or more and waiting
    // for their client: a live one sends its batch in milliseconds.
    const string EndStoppedWritersSql = """
        with stopped as materialized (
            select a.pid, a.query_start from pg_stat_activity a
            where a.datname = current_database() and a.usename = current_user and a.pid <> pg_backend_pid()
              and a.state = 'active' and a.wait_event = 'ClientRead' and a.query_start < now() - interval '2 s'
              and exists (select from pg_locks l where l.pid = a.pid and l.relation in ('es.streams'::regclass, 'es.kafka_offsets'::regclass))
        )
        select pid, query_start from stopped where pg_terminate_backend(pid)
        """;

    const string CopySql = "copy es.events (stream_id, version, event_id, type, data, metadata, seq, event_time, partition) from stdin (format binary)";

    // Returns the inputs whose compare-and-set failed.
    const string MoveOffsetsSql = """
        with input as (
            select * from unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::bigint[])
                 with ordinality as t(consumer_group, topic, partition, expected, next_offset, ord)
        ),
        moved as (
            update es.kafka_offsets o set next_offset = i.next_offset, updated_at = now()
            from input i
            where i.expected is not null
              and o.consumer_group = i.consumer_group and o.topic = i.topic and o.partition = i.partition
              and o.next_offset = i.expected
            returning i.ord
        ),
        created as (
            insert into es.kafka_offsets (consumer_group, topic, partition, next_offset)
            select consumer_group, topic, partition, next_offset from input where expected is null
            on conflict do nothing
            returning consumer_group, topic, partition
        )
        select i.ord
        from input i
        where not exists (select from moved m where m.ord = i.ord)
          and not exists (select from created c
                          where c.consumer_group = i.consumer_group and c.topic = i.topic and c.partition = i.partition)
        order by i.ord
        """;

    /// <summary>Appends in a transaction of its own (see the other overload for <paramref name="asynchronousCommit"/>).</summary>
    public Task<SignalBatchResult> AppendSignalsAsync(
        IReadOnlyList<SignalToAppend> signals, IReadOnlyList<KafkaOffsetAdvance> offsets, CancellationToken cancellationToken, bool asynchronousCommit = false) =>
        ConflictRetry.RunAsync(async () =>
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var append = await AppendSignalsAsync(transaction, signals, offsets, cancellationToken, asynchronousCommit);
            await append.RecordAndCommitAsync(transaction, cancellationToken);
            return append.Result;
        }, cancellationToken);

    /// <summary>
    /// Appends inside the caller's transaction, as its first write; the caller ends the transaction with
    /// <see cref="SignalAppend.RecordAndCommitAsync"/>, which records the commit. When an
    /// offset is fenced the transaction is rolled back here and <see cref="OffsetFencedException"/> thrown; a transient
    /// <see cref="PostgresException"/> (serialization failure, deadlock) means the caller should rerun the transaction.
    /// With <paramref name="asynchronousCommit"/> the transaction's commit does not wait for its WAL to reach disk: only
    /// for a caller that re-does a lost commit (Ingest re-reads Kafka from the offsets this transaction stores).
    /// </summary>
    public async Task<SignalAppend> AppendSignalsAsync(
        NpgsqlTransaction transaction, IReadOnlyList<SignalToAppend> signals, IReadOnlyList<KafkaOffsetAdvance> offsets, CancellationToken cancellationToken,
        bool asynchronousCommit = false)
    {
        Validate(signals, offsets);
        try
        {
            return await AppendAsync(transaction, signals, offsets, asynchronousCommit, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.LockNotAvailable)
        {
            // Past the lock limit, wherever the wait was (a head, an offset, a new stream's row).
            await EndStoppedWritersAsync(cancellationToken);
            throw;
        }
    }

    static async Task<SignalAppend> AppendAsync(
        NpgsqlTransaction transaction, IReadOnlyList<SignalToAppend> signals, IReadOnlyList<KafkaOffsetAdvance> offsets, bool asynchronousCommit,
        CancellationToken cancellationToken)
    {
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is already completed");
        var (before, after) = await MoveHeadsAndOffsetsAsync(connection, transaction, signals, offsets, asynchronousCommit, cancellationToken);
        if (signals.Count == 0)
        {
            return new SignalAppend(new SignalBatchResult([], []));
        }
        var classification = new SignalClassification(signals, before);
        CheckMoves(classification.MovedHeads, before, after);
        var stored = classification.StoredLookups is { Count: > 0 } lookups
            ? await StoredBodiesAsync(connection, transaction, signals, lookups, cancellationToken)
            : new Dictionary<int, string>();
        var result = classification.Settle(stored);
        var appended = classification.Appended.ToList();
        if (appended.Count > MaxInsertedWithCommit)
        {
            await CopyAsync(connection, appended, after, cancellationToken);
            return new SignalAppend(result);
        }
        return new SignalAppend(result, appended.Count == 0 ? null : InsertCommand(appended, after));
    }

    // A batch this small is inserted in the round trip that records the commit (SignalAppend.RecordAndCommitAsync), not
    // copied in two of its own: at a few thousand signals a second batches hold tens, and each round trip waits for a
    // busy machine's scheduler. Larger ones are copied: COPY costs the server less per row.
    const int MaxInsertedWithCommit = 100;

    const string InsertSql = """
        insert into es.events (stream_id, version, event_id, type, data, metadata, seq, event_time, partition)
        select * from unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::json[], $6::json[], $7::bigint[], $8::timestamptz[], $9::int[])
        """;

    static NpgsqlBatchCommand InsertCommand(List<(SignalToAppend Signal, long Version)> events, IReadOnlyDictionary<string, StreamHead> heads) =>
        new(InsertSql)
        {
            Parameters =
            {
                new NpgsqlParameter<string[]> { TypedValue = [.. events.Select(e => e.Signal.StreamId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<long[]> { TypedValue = [.. events.Select(e => e.Version)] },
                new NpgsqlParameter<Guid[]> { TypedValue = [.. events.Select(e => e.Signal.EventId)] },
                new NpgsqlParameter<string[]> { TypedValue = [.. events.Select(e => e.Signal.Type)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<string[]> { TypedValue = [.. events.Select(e => Encoding.UTF8.GetString(e.Signal.Data.Span))], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Json },
                new NpgsqlParameter<string?[]> { TypedValue = [.. events.Select(e => e.Signal.Metadata)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Json },
                new NpgsqlParameter<long[]> { TypedValue = [.. events.Select(e => e.Signal.Seq)] },
                new NpgsqlParameter<DateTime[]> { TypedValue = [.. events.Select(e => e.Signal.EventTime.UtcDateTime)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz },
                new NpgsqlParameter<int[]> { TypedValue = [.. events.Select(e => heads[e.Signal.StreamId].Partition)] },
            },
        };

    // The store moved each head by the same rule the classification applies (a signal is appended when its seq rises
    // above its stream's last and every seq before it); a disagreement is a bug, and would store wrong versions.
    static void CheckMoves(IReadOnlyDictionary<string, StreamHead> classified, Dictionary<string, StreamHead> before, Dictionary<string, StreamHead> after)
    {
        foreach (var (id, moved) in after)
        {
            var expected = classified.TryGetValue(id, out var head) ? head : before[id];
            if (expected != moved)
            {
                throw new InvalidOperationException(
                    $"The store moved the head of {id} from {before[id]} to {moved}, where the batch's classification gives {expected}");
            }
        }
    }

    /// <summary>The next offset to read per partition, as stored by the last committed append.</summary>
    public async Task<IReadOnlyDictionary<int, long>> LoadKafkaOffsetsAsync(string consumerGroup, string topic, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "select partition, next_offset from es.kafka_offsets where consumer_group = $1 and topic = $2");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = consumerGroup });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var offsets = new Dictionary<int, long>();
        while (await reader.ReadAsync(cancellationToken))
        {
            offsets[reader.GetInt32(0)] = reader.GetInt64(1);
        }
        return offsets;
    }

    /// <summary>
    /// Deletes the stored offsets of a consumer group on a topic, for a broker that is new (its offsets would point into
    /// another log); returns how many partitions had one.
    /// </summary>
    public async Task<int> ForgetKafkaOffsetsAsync(string consumerGroup, string topic, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("delete from es.kafka_offsets where consumer_group = $1 and topic = $2");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = consumerGroup });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = topic });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // One round trip: promise the commit record, lock the streams' rows and move their heads, move the offsets; a second
    // only for new streams. Returns the heads before and after.
    static async Task<(Dictionary<string, StreamHead> Before, Dictionary<string, StreamHead> After)> MoveHeadsAndOffsetsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<SignalToAppend> signals, IReadOnlyList<KafkaOffsetAdvance> offsets,
        bool asynchronousCommit, CancellationToken cancellationToken)
    {
        var before = new Dictionary<string, StreamHead>(StringComparer.Ordinal);
        var after = new Dictionary<string, StreamHead>(StringComparer.Ordinal);
        var risingSeqs = RisingSeqs(signals);
        if (risingSeqs.Count == 0 && offsets.Count == 0)
        {
            return (before, after);
        }
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            // None returns rows, so the reader starts at the heads. The transaction holds its streams' heads and its Kafka
            // offsets locked until it ends: a writer stopped mid-transaction (SIGSTOP, a frozen VM) would stall the next
            // owner of its partitions, and every partition of that owner's batch, for as long as it stays stopped. The
            // server ends a transaction left idle past the limit, and a writer kept waiting past the lock limit ends one
            // stopped inside a statement; the stopped writer's rerun is fenced by its stored offsets.
            batch.BatchCommands.Add(new NpgsqlBatchCommand(IdleTransactionLimit));
            batch.BatchCommands.Add(new NpgsqlBatchCommand(LockLimit));
            if (asynchronousCommit)
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("set local synchronous_commit = off"));
            }
            batch.BatchCommands.Add(LogCommit.PromiseCommand());
            if (risingSeqs.Count > 0)
            {
                batch.BatchCommands.Add(StreamLock.Move(risingSeqs));
            }
            if (offsets.Count > 0)
            {
                batch.BatchCommands.Add(MoveOffsetsCommand(offsets));
            }
            int? fenced = null;
            await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
            {
                if (risingSeqs.Count > 0)
                {
                    await StreamLock.ReadMovesAsync(reader, before, after, cancellationToken);
                    await reader.NextResultAsync(cancellationToken);
                }
                if (offsets.Count > 0 && await reader.ReadAsync(cancellationToken))
                {
                    fenced = (int)reader.GetInt64(0) - 1;
                }
            }
            if (fenced is { } index)
            {
                var offset = offsets[index];
                var actual = await StoredOffsetAsync(connection, transaction, offset, cancellationToken);
                await transaction.RollbackAsync(cancellationToken);
                throw new OffsetFencedException(offset.ConsumerGroup, offset.Topic, offset.Partition, offset.ExpectedNextOffset, actual);
            }
        }
        await StreamLock.MoveCreatedAsync(connection, transaction, risingSeqs, before, after, cancellationToken);
        return (before, after);
    }

    // The lock limit: whoever holds what this writer waits for may be stopped inside a statement; end the ones that are
    // (their transactions roll back), so the rerun goes through. The transaction that waited is aborted: a connection of its own.
    async Task EndStoppedWritersAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(EndStoppedWritersSql);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            LogEndedStoppedWriter(_logger, reader.GetInt32(0), reader.GetFieldValue<DateTimeOffset>(1));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Ended the backend {Pid} of a writer stopped inside its statement since {Since:O}: it held the stream heads or offsets this append waited for")]
    static partial void LogEndedStoppedWriter(ILogger logger, int pid, DateTimeOffset since);

    // Each stream's seqs that rise above every seq before them in the batch, in batch order: the ones that can be
    // appended, whichever its last stored seq is.
    static Dictionary<string, List<long>> RisingSeqs(IReadOnlyList<SignalToAppend> signals)
    {
        var rising = new Dictionary<string, List<long>>(StringComparer.Ordinal);
        foreach (var signal in signals)
        {
            if (!rising.TryGetValue(signal.StreamId, out var seqs))
            {
                rising[signal.StreamId] = [signal.Seq];
            }
            else if (signal.Seq > seqs[^1])
            {
                seqs.Add(signal.Seq);
            }
        }
        return rising;
    }

    // The stored bodies of the repeated signals at these indexes, by index.
    static async Task<Dictionary<int, string>> StoredBodiesAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<SignalToAppend> signals, IReadOnlyList<int> lookups,
        CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(StoredBodiesSql, connection, transaction)
        {
            Parameters =
            {
                new NpgsqlParameter<string[]> { TypedValue = [.. lookups.Select(i => signals[i].StreamId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<long[]> { TypedValue = [.. lookups.Select(i => signals[i].Seq)] },
            },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var bodies = new Dictionary<int, string>(lookups.Count);
        while (await reader.ReadAsync(cancellationToken))
        {
            bodies[lookups[(int)reader.GetInt64(0) - 1]] = reader.GetString(1);
        }
        return bodies;
    }

    static async Task CopyAsync(
        NpgsqlConnection connection, IEnumerable<(SignalToAppend Signal, long Version)> events, IReadOnlyDictionary<string, StreamHead> heads,
        CancellationToken cancellationToken)
    {
        await using var importer = await connection.BeginBinaryImportAsync(CopySql, cancellationToken);
        foreach (var (signal, version) in events)
        {
            await importer.StartRowAsync(cancellationToken);
            await importer.WriteAsync(signal.StreamId, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(version, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(signal.EventId, NpgsqlDbType.Uuid, cancellationToken);
            await importer.WriteAsync(signal.Type, NpgsqlDbType.Text, cancellationToken);
            await importer.WriteAsync(signal.Data, NpgsqlDbType.Json, cancellationToken);
            if (signal.Metadata is null)
            {
                await importer.WriteNullAsync(cancellationToken);
            }
            else
            {
                await importer.WriteAsync(signal.Metadata, NpgsqlDbType.Json, cancellationToken);
            }
            await importer.WriteAsync(signal.Seq, NpgsqlDbType.Bigint, cancellationToken);
            await importer.WriteAsync(signal.EventTime.UtcDateTime, NpgsqlDbType.TimestampTz, cancellationToken);
            await importer.WriteAsync(heads[signal.StreamId].Partition, NpgsqlDbType.Integer, cancellationToken);
        }
        await importer.CompleteAsync(cancellationToken);
    }

    static NpgsqlBatchCommand MoveOffsetsCommand(IReadOnlyList<KafkaOffsetAdvance> offsets) =>
        new(MoveOffsetsSql)
        {
            Parameters =
            {
                new NpgsqlParameter<string[]> { TypedValue = offsets.Select(o => o.ConsumerGroup).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<string[]> { TypedValue = offsets.Select(o => o.Topic).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<int[]> { TypedValue = offsets.Select(o => o.Partition).ToArray() },
                new NpgsqlParameter<long?[]> { TypedValue = offsets.Select(o => o.ExpectedNextOffset).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
                new NpgsqlParameter<long[]> { TypedValue = offsets.Select(o => o.NextOffset).ToArray() },
            },
        };

    static async Task<long?> StoredOffsetAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, KafkaOffsetAdvance offset, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "select next_offset from es.kafka_offsets where consumer_group = $1 and topic = $2 and partition = $3", connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = offset.ConsumerGroup });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = offset.Topic });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = offset.Partition });
        return await command.ExecuteScalarAsync(cancellationToken) is long stored ? stored : null;
    }

    static void Validate(IReadOnlyList<SignalToAppend> signals, IReadOnlyList<KafkaOffsetAdvance> offsets)
    {
        ArgumentNullException.ThrowIfNull(signals);
        ArgumentNullException.ThrowIfNull(offsets);
        foreach (var signal in signals)
        {
            ArgumentNullException.ThrowIfNull(signal);
            ArgumentException.ThrowIfNullOrEmpty(signal.StreamId);
            // The store keeps signals' ids unique through this: (stream, seq) is unique, and no index on ids holds them.
            if (signal.EventId != EventIds.ForSignal(signal.StreamId, signal.Seq))
            {
                throw new ArgumentException($"The event id of {signal.StreamId} seq {signal.Seq} is not the one derived from them (EventIds.ForSignal)", nameof(signals));
            }
        }
        var partitions = new HashSet<(string, string, int)>();
        foreach (var offset in offsets)
        {
            ArgumentNullException.ThrowIfNull(offset);
            ArgumentOutOfRangeException.ThrowIfNegative(offset.NextOffset);
            if (!partitions.Add((offset.ConsumerGroup, offset.Topic, offset.Partition)))
            {
                throw new ArgumentException($"Offsets name {offset.Topic}/{offset.Partition} of {offset.ConsumerGroup} twice", nameof(offsets));
            }
        }
    }
}
