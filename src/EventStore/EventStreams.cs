using Npgsql;
using NpgsqlTypes;

namespace Streaming.EventStore;

/// <summary>Appends to a stream with optimistic concurrency, and reads streams back.</summary>
public sealed class EventStreams(NpgsqlDataSource dataSource)
{
    // Returns the version found, the version reached (null when the expectation failed and nothing was written) and
    // how many events were written. With $8, events whose id is already stored are left out instead of refused (only
    // events without a seq have ids the store keeps unique: signals are unique by (stream, seq), see SignalLog).
    const string AppendSql = """
        with head as (
            select coalesce(s.version, 0) as version, coalesce(s.partition, es.partition_of($1)) as partition
            from (select) one left join es.streams s on s.stream_id = $1
        ),
        accepted as (
            select version from head where $2 = -2 or version = $2
        ),
        input as (
            select t.event_id, t.type, t.data, t.metadata, t.event_time, row_number() over (order by t.ord) as n
            from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[])
                 with ordinality as t(event_id, type, data, metadata, event_time, ord)
            where not ($8 and exists (select from es.events e where e.event_id = t.event_id and e.seq is null))
        ),
        inserted as (
            insert into es.events (stream_id, version, event_id, type, data, metadata, event_time, partition)
            select $1, a.version + i.n, i.event_id, i.type, i.data::json, i.metadata::json, i.event_time, h.partition
            from accepted a cross join input i cross join head h
            order by i.n
            returning version
        ),
        head_moved as (
            update es.streams s
               set version = h.version, updated_at = now()
              from (select max(version) as version from inserted having count(*) > 0) h
             where s.stream_id = $1
        )
        select (select version from head),
               (select version from accepted) + (select count(*) from inserted),
               (select count(*) from inserted)
        """;

    // Appends each input event at the end of its stream, unless its id is stored already, in input order; the streams are
    // locked (and exist) already. Returns each appended event's input position and version.
    const string AppendEachOnceSql = """
        with input as (
            select t.stream_id, t.event_id, t.type, t.data, t.metadata, t.event_time, t.ord
            from unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
                 with ordinality as t(stream_id, event_id, type, data, metadata, event_time, ord)
            where not exists (select from es.events e where e.event_id = t.event_id and e.seq is null)
        ),
        numbered as (
            select i.*, row_number() over (partition by i.stream_id order by i.ord) as n, count(*) over (partition by i.stream_id) as added
            from input i
        ),
        moved as (
            update es.streams s
               set version = s.version + a.added, updated_at = now()
              from (select distinct stream_id, added from numbered) a
             where s.stream_id = a.stream_id
            returning s.stream_id, s.version - a.added as base, s.partition
        ),
        inserted as (
            insert into es.events (stream_id, version, event_id, type, data, metadata, event_time, partition)
            select n.stream_id, m.base + n.n, n.event_id, n.type, n.data::json, n.metadata::json, n.event_time, m.partition
            from numbered n join moved m on m.stream_id = n.stream_id
            order by n.ord
            returning event_id, version
        )
        select n.ord, i.version from numbered n join inserted i on i.event_id = n.event_id
        """;

    const string SelectEvents = "select " + EventRows.Columns + EventRows.From;

    /// <summary>Appends in a transaction of its own; returns the stream's new version.</summary>
    public Task<long> AppendToStreamAsync(
        string streamId, long expectedVersion, IReadOnlyList<EventToAppend> events, CancellationToken cancellationToken) =>
        InTransactionAsync(transaction => AppendToStreamAsync(transaction, streamId, expectedVersion, events, cancellationToken), cancellationToken);

    /// <summary>
    /// Runs <paramref name="appends"/> in a transaction of its own and commits it; a stream-order conflict or deadlock
    /// reruns the whole transaction, so <paramref name="appends"/> must do nothing outside it.
    /// </summary>
    public Task<T> InTransactionAsync<T>(Func<NpgsqlTransaction, Task<T>> appends, CancellationToken cancellationToken) =>
        ConflictRetry.InTransactionAsync(dataSource, appends, cancellationToken);

    /// <summary>
    /// Appends inside the caller's transaction, best as its first write (or after <see cref="LockAsync"/>); returns the
    /// stream's new version. A transient <see cref="PostgresException"/> (serialization failure, deadlock) means the
    /// caller should retry the transaction.
    /// </summary>
    public async Task<long> AppendToStreamAsync(
        NpgsqlTransaction transaction, string streamId, long expectedVersion, IReadOnlyList<EventToAppend> events, CancellationToken cancellationToken)
    {
        var (found, reached, _) = await AppendAsync(transaction, streamId, expectedVersion, events, skipExisting: false, cancellationToken);
        return reached ?? throw new WrongExpectedVersionException(streamId, expectedVersion, found);
    }

    /// <summary>Appends the event at the end of the stream unless an event with its id is stored already; true when appended.</summary>
    public Task<bool> AppendOnceAsync(string streamId, EventToAppend @event, CancellationToken cancellationToken) =>
        InTransactionAsync(transaction => AppendOnceAsync(transaction, streamId, @event, cancellationToken), cancellationToken);

    /// <summary>As <see cref="AppendOnceAsync(string, EventToAppend, CancellationToken)"/>, inside the caller's transaction.</summary>
    public async Task<bool> AppendOnceAsync(NpgsqlTransaction transaction, string streamId, EventToAppend @event, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var (_, _, written) = await AppendAsync(transaction, streamId, ExpectedVersion.Any, [@event], skipExisting: true, cancellationToken);
        return written > 0;
    }

    /// <summary>As <see cref="AppendOnceAsync(NpgsqlTransaction, string, EventToAppend, CancellationToken)"/>; returns the event's version, or null when the store had it already.</summary>
    public async Task<long?> AppendOnceAtAsync(NpgsqlTransaction transaction, string streamId, EventToAppend @event, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(@event);
        var (_, reached, written) = await AppendAsync(transaction, streamId, ExpectedVersion.Any, [@event], skipExisting: true, cancellationToken);
        return written > 0 ? reached : null;
    }

    /// <summary>
    /// Appends each event at the end of its stream unless an event with its id is stored already (an id repeated in
    /// <paramref name="appends"/> counts once), in order, in one statement inside the caller's transaction: so a
    /// transaction appending to many streams holds their locks for one round trip, not one per event. Locks the streams
    /// first, in order (creating new ones; those the transaction locked already cost nothing more). Returns each event's
    /// version, or null where the store had it already.
    /// </summary>
    public async Task<IReadOnlyList<long?>> AppendEachOnceAsync(
        NpgsqlTransaction transaction, IReadOnlyList<(string StreamId, EventToAppend Event)> appends, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(appends);
        var versions = new long?[appends.Count];
        var first = new HashSet<Guid>();
        var sent = new List<int>(appends.Count);
        for (var i = 0; i < appends.Count; i++)
        {
            var (streamId, e) = appends[i];
            ArgumentException.ThrowIfNullOrEmpty(streamId);
            ArgumentNullException.ThrowIfNull(e);
            if (first.Add(e.EventId))
            {
                sent.Add(i);
            }
        }
        if (sent.Count == 0)
        {
            return versions;
        }
        // One round trip: the existing streams' rows locked in order, the new ones created in order (the order every
        // appender locks in, StreamLock), then the events.
        var streams = sent.Select(i => appends[i].StreamId).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var append = new NpgsqlBatchCommand(AppendEachOnceSql)
        {
            Parameters =
            {
                new NpgsqlParameter<string[]> { TypedValue = [.. sent.Select(i => appends[i].StreamId)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<Guid[]> { TypedValue = [.. sent.Select(i => appends[i].Event.EventId)] },
                new NpgsqlParameter<string[]> { TypedValue = [.. sent.Select(i => appends[i].Event.Type)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<string[]> { TypedValue = [.. sent.Select(i => appends[i].Event.Data)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<string[]> { TypedValue = [.. sent.Select(i => appends[i].Event.Metadata)], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. sent.Select(i => appends[i].Event.EventTime.ToUniversalTime())] },
            },
        };
        await using var batch = new NpgsqlBatch(transaction.Connection, transaction)
        {
            BatchCommands = { StreamLock.Heads(streams), StreamLock.Create(streams), append },
        };
        // The heads' rows first (the insert returns none), then the appended events.
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            versions[sent[(int)reader.GetInt64(0) - 1]] = reader.GetInt64(1);
        }
        return versions;
    }

    /// <summary>
    /// Locks every stream the caller's transaction will append to, in one go; call it first when one transaction
    /// appends to several streams, so it cannot lose a stream-order conflict halfway through.
    /// </summary>
    public static Task LockAsync(NpgsqlTransaction transaction, IEnumerable<string> streamIds, CancellationToken cancellationToken) =>
        StreamLock.LockAsync(transaction, streamIds, cancellationToken);

    /// <summary>Events of the stream from <paramref name="fromVersion"/> on, in version order.</summary>
    public Task<IReadOnlyList<RecordedEvent>> ReadStreamForwardAsync(string streamId, long fromVersion, int maxCount, CancellationToken cancellationToken) =>
        ReadAsync(SelectEvents + "where e.stream_id = $1 and e.version >= $2 order by e.version limit $3", streamId, fromVersion, maxCount, cancellationToken);

    /// <summary>Events of the stream from <paramref name="fromVersion"/> (<see cref="long.MaxValue"/>: its end) back, newest first.</summary>
    public Task<IReadOnlyList<RecordedEvent>> ReadStreamBackwardAsync(string streamId, long fromVersion, int maxCount, CancellationToken cancellationToken) =>
        ReadAsync(SelectEvents + "where e.stream_id = $1 and e.version <= $2 order by e.version desc limit $3", streamId, fromVersion, maxCount, cancellationToken);

    /// <summary>The stream as it was known at <paramref name="eventTime"/>: every event whose event time is at or before it, in version order.</summary>
    public async Task<IReadOnlyList<RecordedEvent>> ReadStreamAsOfAsync(string streamId, DateTimeOffset eventTime, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(SelectEvents + "where e.stream_id = $1 and e.event_time <= $2 order by e.version");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = streamId });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = eventTime.ToUniversalTime() });
        return await EventRows.ReadAsync(command, cancellationToken);
    }

    /// <summary>The stream's current version; 0 when it does not exist.</summary>
    public async Task<long> ReadVersionAsync(string streamId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select version from es.streams where stream_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = streamId });
        return await command.ExecuteScalarAsync(cancellationToken) is long version ? version : 0;
    }

    async Task<IReadOnlyList<RecordedEvent>> ReadAsync(string sql, string streamId, long version, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = streamId });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = version });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxCount });
        return await EventRows.ReadAsync(command, cancellationToken);
    }

    async Task<(long Found, long? Reached, long Written)> AppendAsync(
        NpgsqlTransaction transaction, string streamId, long expectedVersion, IReadOnlyList<EventToAppend> events, bool skipExisting, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(streamId);
        ArgumentNullException.ThrowIfNull(events);
        if (expectedVersion < 0 && expectedVersion != ExpectedVersion.Any)
        {
            throw new ArgumentOutOfRangeException(nameof(expectedVersion), expectedVersion, "Expected a version ≥ 0 or ExpectedVersion.Any");
        }
        var connection = transaction.Connection ?? throw new InvalidOperationException("The transaction is already completed");
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                StreamLock.Create([streamId]),
                StreamLock.Heads([streamId]),
                AppendCommand(streamId, expectedVersion, events, skipExisting),
            },
        };
        try
        {
            // The insert returns no rows, so the reader starts at the head.
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            await StreamLock.ReadHeadsAsync(reader, new Dictionary<string, StreamHead>(1), cancellationToken);
            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            return (reader.GetInt64(0), reader.IsDBNull(1) ? null : reader.GetInt64(1), reader.GetInt64(2));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && e.ConstraintName == "events_stream_version_key")
        {
            // Only a writer that bypassed the stream lock can get here; the transaction is lost, so ask afresh.
            throw new WrongExpectedVersionException(streamId, expectedVersion, await ReadVersionAsync(streamId, cancellationToken));
        }
    }

    static NpgsqlBatchCommand AppendCommand(string streamId, long expectedVersion, IReadOnlyList<EventToAppend> events, bool skipExisting)
    {
        var count = events.Count;
        var eventIds = new Guid[count];
        var types = new string[count];
        var data = new string[count];
        var metadata = new string[count];
        var eventTimes = new DateTimeOffset[count];
        for (var i = 0; i < count; i++)
        {
            var e = events[i];
            ArgumentNullException.ThrowIfNull(e);
            eventIds[i] = e.EventId;
            types[i] = e.Type;
            data[i] = e.Data;
            metadata[i] = e.Metadata;
            eventTimes[i] = e.EventTime.ToUniversalTime();
        }
        return new NpgsqlBatchCommand(AppendSql)
        {
            Parameters =
            {
                new NpgsqlParameter<string> { TypedValue = streamId, NpgsqlDbType = NpgsqlDbType.Text },
                new NpgsqlParameter<long> { TypedValue = expectedVersion },
                new NpgsqlParameter<Guid[]> { TypedValue = eventIds },
                new NpgsqlParameter<string[]> { TypedValue = types, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<string[]> { TypedValue = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<string[]> { TypedValue = metadata, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text },
                new NpgsqlParameter<DateTimeOffset[]> { TypedValue = eventTimes },
                new NpgsqlParameter<bool> { TypedValue = skipExisting },
            },
        };
    }
}
