using Npgsql;
using NpgsqlTypes;

namespace Streaming.EventStore;

/// <summary>
/// Ingest's side of the store: appends a consumed batch of signals and moves the Kafka offsets that produced it, in one
/// transaction and one round trip. A signal is stored at most once per (stream, seq).
/// </summary>
public sealed class SignalLog(NpgsqlDataSource dataSource)
{
    // JSON travels as text and is stored as sent (json, not jsonb: see migration 4).
    // Per input row: 0 appended, 1 duplicate, 2 stale; and the version it got. A signal is new when its seq is above
    // both the stream's last stored seq and every seq before it in the batch; the rows that are not new cannot move
    // that maximum, so a window over the batch decides exactly what appending one by one would.
    const string AppendSql = """
        with input as (
            select t.stream_id, t.seq, t.event_id, t.type, t.data, t.metadata, t.event_time, t.ord
            from unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
                 with ordinality as t(stream_id, seq, event_id, type, data, metadata, event_time, ord)
        ),
        positioned as (
            select i.*, s.version as stream_version,
                   greatest(s.last_seq, max(i.seq) over (partition by i.stream_id order by i.ord
                                                         rows between unbounded preceding and 1 preceding)) as seen_seq
            from input i left join es.streams s on s.stream_id = i.stream_id
        ),
        judged as (
            select p.*, (p.seen_seq is null or p.seq > p.seen_seq) as is_new from positioned p
        ),
        classified as (
            select j.ord, j.stream_id, j.seq, j.event_id, j.type, j.data, j.metadata, j.event_time, j.stream_version,
                   case
                       when j.is_new then 0
                       when bool_or(j.is_new) over (partition by j.stream_id, j.seq) then 1
                       when exists (select from es.events e where e.stream_id = j.stream_id and e.seq = j.seq) then 1
                       else 2
                   end as outcome
            from judged j
        ),
        appended as (
            select c.*, coalesce(c.stream_version, 0) + row_number() over (partition by c.stream_id order by c.ord) as version
            from classified c
            where c.outcome = 0
        ),
        inserted as (
            insert into es.events (stream_id, version, event_id, type, data, metadata, seq, event_time)
            select stream_id, version, event_id, type, data::json, metadata::json, seq, event_time from appended order by ord
        ),
        heads as (
            update es.streams s
               set version = h.version, last_seq = h.last_seq, last_tx_id = pg_current_xact_id(), updated_at = now()
              from (select stream_id, max(version) as version, max(seq) as last_seq from appended group by stream_id) h
             where s.stream_id = h.stream_id
        )
        select c.outcome, coalesce(a.version, 0)
        from classified c left join appended a on a.ord = c.ord
        order by c.ord
        """;

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

    public Task<SignalBatchResult> AppendSignalsAsync(
        IReadOnlyList<SignalToAppend> signals, IReadOnlyList<KafkaOffsetAdvance> offsets, CancellationToken cancellationToken) =>
        ConflictRetry.InTransactionAsync(dataSource, transaction => AppendSignalsAsync(transaction, signals, offsets, cancellationToken), cancellationToken);

    /// <summary>
    /// Appends inside the caller's transaction, best before it writes anything else. When an offset is fenced the
    /// transaction is rolled back here and <see cref="OffsetFencedException"/> thrown; a transient
    /// <see cref="PostgresException"/> (serialization failure, deadlock) means the caller should retry the transaction.
    /// </summary>
    public async Task<SignalBatchResult> AppendSignalsAsync(
        NpgsqlTransaction transaction, IReadOnlyList<SignalToAppend> signals, IReadOnlyList<KafkaOffsetAdvance> offsets, CancellationToken cancellationToken)
    {
        Validate(signals, offsets);
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is already completed");
        await using var batch = new NpgsqlBatch(connection, transaction);
        if (signals.Count > 0)
        {
            batch.BatchCommands.Add(StreamLock.Command(signals.Select(s => s.StreamId)));
            batch.BatchCommands.Add(AppendCommand(signals));
        }
        if (offsets.Count > 0)
        {
            batch.BatchCommands.Add(MoveOffsetsCommand(offsets));
        }
        if (signals.Count > 0)
        {
            batch.BatchCommands.Add(StreamLock.NotifyCommand());
        }
        if (batch.BatchCommands.Count == 0)
        {
            return new SignalBatchResult([], []);
        }

        var outcomes = new SignalAppendOutcome[signals.Count];
        var versions = new long[signals.Count];
        int? fenced = null;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            if (signals.Count > 0)
            {
                await reader.NextResultAsync(cancellationToken);
                for (var i = 0; i < signals.Count; i++)
                {
                    if (!await reader.ReadAsync(cancellationToken))
                    {
                        throw new InvalidOperationException($"The store returned {i} outcomes for {signals.Count} signals");
                    }
                    outcomes[i] = (SignalAppendOutcome)reader.GetInt32(0);
                    versions[i] = reader.GetInt64(1);
                }
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
        return new SignalBatchResult(outcomes, versions);
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

    static NpgsqlBatchCommand AppendCommand(IReadOnlyList<SignalToAppend> signals)
    {
        var count = signals.Count;
        var streamIds = new string[count];
        var seqs = new long[count];
        var eventIds = new Guid[count];
        var types = new string[count];
        var data = new string[count];
        var metadata = new string[count];
        var eventTimes = new DateTimeOffset[count];
        for (var i = 0; i < count; i++)
        {
            var signal = signals[i];
            streamIds[i] = signal.StreamId;
            seqs[i] = signal.Seq;
            eventIds[i] = signal.EventId;
            types[i] = signal.Type;
            data[i] = signal.Data;
            metadata[i] = signal.Metadata;
            eventTimes[i] = signal.EventTime.ToUniversalTime();
        }
        return new NpgsqlBatchCommand(AppendSql)
        {
            Parameters =
            {
                new NpgsqlParameter<string[]> { TypedValue = streamIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<long[]> { TypedValue = seqs },
                new NpgsqlParameter<Guid[]> { TypedValue = eventIds },
                new NpgsqlParameter<string[]> { TypedValue = types, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<string[]> { TypedValue = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<string[]> { TypedValue = metadata, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<DateTimeOffset[]> { TypedValue = eventTimes },
            },
        };
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
