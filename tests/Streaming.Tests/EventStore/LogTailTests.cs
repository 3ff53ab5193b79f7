using System.Collections.Concurrent;
using Npgsql;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EventStore;

public sealed class LogTailTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    readonly EventStreams _streams = new(database.DataSource);
    readonly SignalLog _signals = new(database.DataSource);
    readonly EventLog _log = new(database.DataSource);

    [Fact]
    public async Task An_appender_that_began_first_but_commits_last_is_read_after_the_others_and_nothing_is_lost()
    {
        var slow = SampleEvents.NewStreamId("slow");
        var fast = SampleEvents.NewStreamId("fast");
        var start = await EndOfTailAsync();
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var open = await connection.BeginTransactionAsync();
        await _streams.AppendToStreamAsync(open, slow, ExpectedVersion.NoStream, SampleEvents.Events(2), CancellationToken.None);

        await _streams.AppendToStreamAsync(fast, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);
        var whileOpen = await _log.ReadTailAsync(start, 100, CancellationToken.None);
        await open.CommitAsync();
        var afterCommit = await _log.ReadTailAsync(start, 100, CancellationToken.None);
        var afterFirstRead = await _log.ReadTailAsync(LogPositions.At(0, whileOpen[^1].Position), 100, CancellationToken.None);

        Assert.Equal([fast], whileOpen.Select(e => e.StreamId));
        Assert.Equal([fast, slow, slow], afterCommit.Select(e => e.StreamId));
        Assert.Equal([slow, slow], afterFirstRead.Select(e => e.StreamId));
        Assert.True(afterCommit[0].Commit < afterCommit[1].Commit);
        Assert.True(afterCommit[0].GlobalPosition > afterCommit[1].GlobalPosition, "the slow appender took its positions first");
    }

    [Fact]
    public async Task A_raw_insert_without_the_append_path_still_gets_a_commit_and_is_tailed()
    {
        var raw = SampleEvents.NewStreamId("raw");
        var start = await EndOfTailAsync();

        await using (var insert = database.DataSource.CreateCommand("""
            insert into es.events (stream_id, version, event_id, type, data, metadata, event_time)
            select $1, v, gen_random_uuid(), 'raw-event', '{}', '{}', now() from generate_series(1, 3) v
            """))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = raw });
            await insert.ExecuteNonQueryAsync();
        }
        var tail = await _log.ReadTailAsync(start, 100, CancellationToken.None);

        Assert.Equal([raw, raw, raw], tail.Select(e => e.StreamId));
        Assert.Single(tail.Select(e => e.Commit).Distinct());
        Assert.Equal(1, await CommitRowsAsync(tail[0].Commit));
        Assert.Equal(await EndOfTailAsync(), LogPositions.At(0, tail[^1].Position));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public async Task The_safety_net_records_a_commit_only_for_a_writer_that_did_not_promise_to(bool promised, bool recordedByTrigger)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        if (promised)
        {
            await LogCommit.PromiseAsync(transaction, CancellationToken.None);
        }

        await using var insert = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new("""
                    insert into es.events (stream_id, version, event_id, type, data, metadata, event_time)
                    values ($1, 1, gen_random_uuid(), 'raw-event', '{}', '{}', now())
                    """)
                {
                    Parameters = { new NpgsqlParameter<string> { TypedValue = SampleEvents.NewStreamId("net") } },
                },
                new("set constraints all immediate"),
                new("select exists (select from es.commits where tx_id = pg_current_xact_id())"),
            },
        };
        var recorded = (bool)(await insert.ExecuteScalarAsync())!;
        await transaction.RollbackAsync();

        Assert.Equal(recordedByTrigger, recorded);
    }

    [Fact]
    public async Task An_append_through_the_append_path_records_one_commit()
    {
        var id = SampleEvents.NewStreamId("promised");
        var start = await EndOfTailAsync();

        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(4), CancellationToken.None);
        var tail = await _log.ReadTailAsync(start, 100, CancellationToken.None);

        Assert.Equal(4, tail.Count);
        Assert.Single(tail.Select(e => e.Commit).Distinct());
        Assert.Equal(1, await CommitRowsAsync(tail[0].Commit));
    }

    [Fact]
    public async Task A_transaction_that_appends_nothing_records_no_commit()
    {
        var before = await EndOfTailAsync();
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await LogCommit.PromiseAsync(transaction, CancellationToken.None);

        var commit = await LogCommit.RecordAsync(transaction, CancellationToken.None);
        await transaction.CommitAsync();

        Assert.Null(commit);
        Assert.Equal(before, await EndOfTailAsync());
    }

    [Fact]
    public async Task The_tail_moves_past_a_transaction_that_rolled_back()
    {
        var lost = SampleEvents.NewStreamId("lost");
        var kept = SampleEvents.NewStreamId("kept");
        var start = await EndOfTailAsync();
        await using (var connection = await database.DataSource.OpenConnectionAsync())
        await using (var doomed = await connection.BeginTransactionAsync())
        {
            await _streams.AppendToStreamAsync(doomed, lost, ExpectedVersion.NoStream, SampleEvents.Events(3), CancellationToken.None);
            await _streams.AppendToStreamAsync(kept, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);
            await doomed.RollbackAsync();
        }

        var tail = await Eventually.Get(
            () => _log.ReadTailAsync(start, 100, CancellationToken.None), e => e.Count > 0, Deadline, "the committed append in the tail");

        Assert.Equal([kept], tail.Select(e => e.StreamId));
    }

    [Fact]
    public async Task A_second_writer_to_a_stream_waits_for_the_first_and_follows_it_in_the_tail()
    {
        var id = SampleEvents.NewStreamId("contended");
        var start = await EndOfTailAsync();
        await using var firstConnection = await database.DataSource.OpenConnectionAsync();
        await using var first = await firstConnection.BeginTransactionAsync();
        await _streams.AppendToStreamAsync(first, id, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);

        var second = Task.Run(() => _signals.AppendSignalsAsync([SampleEvents.Signal(id, 1)], [], CancellationToken.None));
        await Eventually.True(() => AnyoneWaitsForALockAsync(), Deadline, "the second writer to wait for the stream lock");
        Assert.False(second.IsCompleted);
        await first.CommitAsync();
        var appended = await second;

        Assert.Equal([2L], appended.Versions);
        var tail = await Eventually.Get(
            () => _log.ReadTailAsync(start, 100, CancellationToken.None), e => e.Count == 2, Deadline, "both appends in the tail");
        Assert.Equal([1L, 2L], tail.Select(e => e.Version));
        Assert.True(tail[0].Commit < tail[1].Commit);
    }

    [Fact]
    public async Task Under_concurrent_writers_the_tail_sees_every_committed_event_once_and_each_stream_in_version_order()
    {
        const int writers = 8;
        const int transactionsPerWriter = 50;
        var streamIds = Enumerable.Range(0, 20).Select(i => SampleEvents.NewStreamId($"race-{i}")).ToArray();
        var lastSeq = new long[streamIds.Length];
        var committed = new ConcurrentDictionary<Guid, string>();
        var rolledBack = new ConcurrentDictionary<Guid, string>();
        var start = await EndOfTailAsync();
        using var writersDone = new CancellationTokenSource();

        var tailer = Task.Run(async () =>
        {
            var seen = new List<RecordedEvent>();
            var position = start;
            DateTime? drainDeadline = null;
            while (true)
            {
                var writersFinished = writersDone.IsCancellationRequested;
                var batch = await _log.ReadTailAsync(position, 37, CancellationToken.None);
                seen.AddRange(batch);
                if (batch.Count > 0)
                {
                    position = LogPositions.At(0, batch[^1].Position);
                    continue;
                }
                if (writersFinished)
                {
                    drainDeadline ??= DateTime.UtcNow + TimeSpan.FromSeconds(15);
                    if (seen.Count >= committed.Count || DateTime.UtcNow > drainDeadline)
                    {
                        seen.AddRange(await _log.ReadTailAsync(position, 10_000, CancellationToken.None));
                        return seen;
                    }
                }
                // Pacing only: correctness never depends on how long the tailer pauses.
                await Task.Delay(1);
            }
        });

        var conflicts = 0;
        var writing = Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            var random = new Random(7919 * (w + 1));
            for (var t = 0; t < transactionsPerWriter; t++)
            {
                var pick = random.Next(10);
                var delay = TimeSpan.FromMilliseconds(random.Next(0, 31));
                var rollBack = random.Next(8) == 0;
                var streams = Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(streamIds.Length)).Distinct().ToArray();
                var counts = streams.Select(_ => random.Next(1, 5)).ToArray();
                var resend = random.Next(4) == 0;
                if (pick >= 8 && !rollBack)
                {
                    // The append path: promises its commit, records it last, retries its own conflicts.
                    var stream = streamIds[streams[0]];
                    var events = SampleEvents.Events(counts[0]);
                    await _streams.AppendToStreamAsync(stream, ExpectedVersion.Any, events, CancellationToken.None);
                    foreach (var e in events)
                    {
                        committed[e.EventId] = stream;
                    }
                    continue;
                }
                while (true)
                {
                    await using var connection = await database.DataSource.OpenConnectionAsync();
                    await using var transaction = await connection.BeginTransactionAsync();
                    var written = new List<(Guid Id, string Stream)>();
                    SignalAppend? appended = null;
                    try
                    {
                        if (pick < 5)
                        {
                            var signals = new List<SignalToAppend>();
                            for (var k = 0; k < streams.Length; k++)
                            {
                                var s = streams[k];
                                for (var n = counts[k]; n > 0; n--)
                                {
                                    signals.Add(SampleEvents.Signal(streamIds[s], Interlocked.Increment(ref lastSeq[s])));
                                }
                                if (resend)
                                {
                                    signals.Add(SampleEvents.Signal(streamIds[s], Math.Max(1, Interlocked.Read(ref lastSeq[s]) - 2)));
                                }
                            }
                            appended = await _signals.AppendSignalsAsync(transaction, signals, [], CancellationToken.None);
                            var result = appended.Result;
                            written.AddRange(signals.Where((_, i) => result.Outcomes[i] == SignalAppendOutcome.Appended).Select(s => (s.EventId, s.StreamId)));
                        }
                        else
                        {
                            var stream = streamIds[streams[0]];
                            var events = SampleEvents.Events(counts[0]);
                            await _streams.AppendToStreamAsync(transaction, stream, ExpectedVersion.Any, events, CancellationToken.None);
                            written.AddRange(events.Select(e => (e.EventId, stream)));
                        }
                    }
                    catch (PostgresException e) when (e.IsTransient)
                    {
                        // Lost a stream-order conflict: nothing of this attempt is stored, so run it again.
                        Interlocked.Increment(ref conflicts);
                        continue;
                    }
                    await Task.Delay(delay);
                    if (rollBack)
                    {
                        await transaction.RollbackAsync();
                        written.ForEach(e => rolledBack[e.Id] = e.Stream);
                    }
                    else
                    {
                        if (appended is not null)
                        {
                            await appended.RecordAndCommitAsync(transaction, CancellationToken.None);
                        }
                        else
                        {
                            await transaction.CommitAsync();
                        }
                        written.ForEach(e => committed[e.Id] = e.Stream);
                    }
                    break;
                }
            }
        })).ToArray();
        await Task.WhenAll(writing);
        await writersDone.CancelAsync();
        var seen = await tailer;

        Assert.NotEmpty(rolledBack);
        var lost = committed.Keys.Except(seen.Select(e => e.EventId)).Count();
        Assert.True(lost == 0, $"the tail lost {lost} of {committed.Count} committed events");
        Assert.Equal(seen.Count, seen.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(committed.Keys.Order(), seen.Select(e => e.EventId).Order());
        Assert.DoesNotContain(seen, e => rolledBack.ContainsKey(e.EventId));
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.Position.CompareTo(p.Second.Position) < 0), "the tail is in (commit, position) order");
        var commits = seen.Select(e => e.Commit).Distinct().ToList();
        Assert.Equal(Enumerable.Range(0, commits.Count).Select(i => start[0].Commit + 1 + i), commits);
        foreach (var stream in seen.GroupBy(e => e.StreamId))
        {
            Assert.Equal(Enumerable.Range(1, stream.Count()).Select(v => (long)v), stream.Select(e => e.Version));
        }
        Assert.Equal(committed.Count, await CountEventsAsync(streamIds));
    }

    [Fact]
    public async Task A_reader_far_behind_the_head_reads_about_as_many_events_as_it_asks_for_whatever_the_planners_statistics_say()
    {
        // Given statistics taken while the log was short (es.commits grows faster than autovacuum analyses it)
        var start = await EndOfTailAsync();
        await ExecuteAsync("analyze es.commits");

        // And 40 commits of 250 events each after the reader's position
        var stream = SampleEvents.NewStreamId("behind");
        for (var commit = 0; commit < 40; commit++)
        {
            await ExecuteAsync($$"""
                insert into es.events (stream_id, version, event_id, type, data, metadata, event_time)
                select '{{stream}}', v, gen_random_uuid(), 'raw-event', '{}', '{}', now()
                  from generate_series({{commit * 250 + 1}}, {{(commit + 1) * 250}}) v
                """);
        }

        // When the reader asks for the next 100 events
        var read = await _log.ReadTailAsync(start, 100, CancellationToken.None);

        // Then it gets the first 100 in order
        Assert.Equal(Enumerable.Range(1, 100).Select(v => (long)v), read.Select(e => e.Version));

        // And the read behind it fetches fewer than one commit's 250 from the table (a plan that sorts the lag fetched
        // all 10,000), as this transaction's own table statistics count it
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var tail = new NpgsqlCommand("select count(*) from es.read_tail(0, $1, $2, 100)", connection, transaction))
        {
            tail.Parameters.Add(new NpgsqlParameter<long> { TypedValue = start[0].Commit });
            tail.Parameters.Add(new NpgsqlParameter<long> { TypedValue = start[0].GlobalPosition });
            Assert.Equal(100L, (long)(await tail.ExecuteScalarAsync())!);
        }
        await using var fetched = new NpgsqlCommand(
            "select coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0) from pg_stat_xact_user_tables where schemaname = 'es' and relname = 'events'",
            connection, transaction);
        var eventsTouched = (long)(await fetched.ExecuteScalarAsync())!;
        Assert.True(eventsTouched < 250, $"the read fetched {eventsTouched} events from es.events to return 100");
    }

    async Task ExecuteAsync(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    Task<LogPositions> EndOfTailAsync() => SettledTail.EndAsync(database.DataSource);

    async Task<long> CommitRowsAsync(long commit)
    {
        await using var command = database.DataSource.CreateCommand("select count(*) from es.commits where commit = $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = commit });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    async Task<bool> AnyoneWaitsForALockAsync()
    {
        await using var command = database.DataSource.CreateCommand(
            "select exists (select from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock')");
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    async Task<long> CountEventsAsync(string[] streamIds)
    {
        await using var command = database.DataSource.CreateCommand("select count(*) from es.events where stream_id = any($1)");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = streamIds });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
