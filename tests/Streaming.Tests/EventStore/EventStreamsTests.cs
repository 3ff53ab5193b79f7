using Npgsql;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EventStore;

public sealed class EventStreamsTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    readonly EventStreams _streams = new(database.DataSource);
    readonly EventLog _log = new(database.DataSource);

    [Fact]
    public async Task Appending_at_the_expected_version_returns_the_new_version()
    {
        var id = SampleEvents.NewStreamId("job");

        var first = await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(2), CancellationToken.None);
        var second = await _streams.AppendToStreamAsync(id, 2, SampleEvents.Events(3), CancellationToken.None);
        var third = await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);

        Assert.Equal((2L, 5L, 6L), (first, second, third));
        Assert.Equal(Enumerable.Range(1, 6).Select(v => (long)v), (await _streams.ReadStreamForwardAsync(id, 1, 100, CancellationToken.None)).Select(e => e.Version));
    }

    [Fact]
    public async Task Appending_each_once_gives_each_stream_its_next_versions_in_order_and_skips_ids_already_stored()
    {
        var (a, b) = (SampleEvents.NewStreamId("job"), SampleEvents.NewStreamId("job"));
        await _streams.AppendToStreamAsync(a, ExpectedVersion.NoStream, SampleEvents.Events(2), CancellationToken.None);
        var stored = SampleEvents.Event();
        await _streams.AppendToStreamAsync(b, ExpectedVersion.NoStream, [stored], CancellationToken.None);
        var (first, second, third) = (SampleEvents.Event(), SampleEvents.Event(), SampleEvents.Event());

        var versions = await _streams.InTransactionAsync(transaction => _streams.AppendEachOnceAsync(transaction,
            [(a, first), (b, stored), (b, second), (a, third), (a, first)], CancellationToken.None), CancellationToken.None);

        Assert.Equal(new long?[] { 3, null, 2, 4, null }, versions);
        Assert.Equal([first.EventId, third.EventId], (await _streams.ReadStreamForwardAsync(a, 3, 10, CancellationToken.None)).Select(e => e.EventId));
        Assert.Equal([stored.EventId, second.EventId], (await _streams.ReadStreamForwardAsync(b, 1, 10, CancellationToken.None)).Select(e => e.EventId));
        Assert.Equal((4L, 2L), (await _streams.ReadVersionAsync(a, CancellationToken.None), await _streams.ReadVersionAsync(b, CancellationToken.None)));
    }

    [Fact]
    public async Task A_wrong_expected_version_is_refused_and_the_stream_stays_intact()
    {
        var id = SampleEvents.NewStreamId("job");
        var original = SampleEvents.Events(3);
        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, original, CancellationToken.None);

        var stale = await Assert.ThrowsAsync<WrongExpectedVersionException>(() =>
            _streams.AppendToStreamAsync(id, 2, SampleEvents.Events(2), CancellationToken.None));
        var notNew = await Assert.ThrowsAsync<WrongExpectedVersionException>(() =>
            _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None));

        Assert.Equal((id, 2L, 3L), (stale.StreamId, stale.ExpectedVersion, stale.ActualVersion));
        Assert.Equal(3, notNew.ActualVersion);
        var stored = await _streams.ReadStreamForwardAsync(id, 1, 100, CancellationToken.None);
        Assert.Equal(original.Select(e => e.EventId), stored.Select(e => e.EventId));
        Assert.Equal(3, await _streams.ReadVersionAsync(id, CancellationToken.None));
    }

    [Fact]
    public async Task Of_two_writers_expecting_the_same_version_exactly_one_wins()
    {
        var id = SampleEvents.NewStreamId("job");
        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => Task.Run(async () =>
        {
            try
            {
                return await _streams.AppendToStreamAsync(id, 1, SampleEvents.Events(2), CancellationToken.None);
            }
            catch (WrongExpectedVersionException e)
            {
                return -e.ActualVersion;
            }
        })));

        Assert.Equal([-3L, -3L, -3L, -3L, -3L, 3L], outcomes.Order());
        Assert.Equal(3, (await _streams.ReadStreamForwardAsync(id, 1, 100, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task AppendOnce_stores_an_event_id_only_once()
    {
        var id = SampleEvents.NewStreamId("job");
        var decision = SampleEvents.Event("phase-changed");

        var first = await _streams.AppendOnceAsync(id, decision, CancellationToken.None);
        var again = await _streams.AppendOnceAsync(id, decision, CancellationToken.None);

        Assert.True(first);
        Assert.False(again);
        Assert.Single(await _streams.ReadStreamForwardAsync(id, 1, 100, CancellationToken.None));
    }

    [Fact]
    public async Task An_event_id_stored_once_is_refused_in_any_other_stream()
    {
        var decision = SampleEvents.Event("phase-changed");
        await _streams.AppendToStreamAsync(SampleEvents.NewStreamId("job"), ExpectedVersion.Any, [decision], CancellationToken.None);

        var again = await Assert.ThrowsAsync<PostgresException>(() =>
            _streams.AppendToStreamAsync(SampleEvents.NewStreamId("job"), ExpectedVersion.Any, [decision], CancellationToken.None));

        Assert.Equal((PostgresErrorCodes.UniqueViolation, "events_event_id_key"), (again.SqlState, again.ConstraintName));
    }

    [Fact]
    public async Task Reading_forward_returns_events_from_a_version_on_in_order()
    {
        var id = SampleEvents.NewStreamId("job");
        var events = SampleEvents.Events(10);
        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, events, CancellationToken.None);

        var page = await _streams.ReadStreamForwardAsync(id, 4, 3, CancellationToken.None);

        Assert.Equal([4L, 5L, 6L], page.Select(e => e.Version));
        Assert.Equal(events[3..6].Select(e => e.EventId), page.Select(e => e.EventId));
        Assert.All(page, e => Assert.Equal(id, e.StreamId));
        Assert.All(page, e => Assert.Null(e.Seq));
        Assert.Equal(events[3].EventTime, page[0].EventTime);
        Assert.Equal(events[3].Metadata, page[0].Metadata);
    }

    [Fact]
    public async Task Reading_backward_from_the_end_returns_the_newest_first()
    {
        var id = SampleEvents.NewStreamId("job");
        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(5), CancellationToken.None);

        var newest = await _streams.ReadStreamBackwardAsync(id, long.MaxValue, 2, CancellationToken.None);
        var fromThree = await _streams.ReadStreamBackwardAsync(id, 3, 10, CancellationToken.None);

        Assert.Equal([5L, 4L], newest.Select(e => e.Version));
        Assert.Equal([3L, 2L, 1L], fromThree.Select(e => e.Version));
    }

    [Fact]
    public async Task Reading_as_of_a_time_returns_the_events_that_happened_by_then_in_version_order()
    {
        var id = SampleEvents.NewStreamId("job");
        var t = SampleEvents.T0;
        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream,
            [SampleEvents.Event(eventTime: t), SampleEvents.Event(eventTime: t.AddMinutes(5)), SampleEvents.Event(eventTime: t.AddMinutes(2)), SampleEvents.Event(eventTime: t.AddMinutes(9))],
            CancellationToken.None);

        var asOf = await _streams.ReadStreamAsOfAsync(id, t.AddMinutes(5), CancellationToken.None);
        var before = await _streams.ReadStreamAsOfAsync(id, t.AddSeconds(-1), CancellationToken.None);
        var inOtherOffset = await _streams.ReadStreamAsOfAsync(id, t.AddMinutes(2).ToOffset(TimeSpan.FromHours(2)), CancellationToken.None);

        Assert.Equal([1L, 2L, 3L], asOf.Select(e => e.Version));
        Assert.Empty(before);
        Assert.Equal([1L, 3L], inOtherOffset.Select(e => e.Version));
    }

    [Fact]
    public async Task Reading_all_forward_follows_global_position_across_streams()
    {
        var a = SampleEvents.NewStreamId("job-a");
        var b = SampleEvents.NewStreamId("job-b");
        var start = (await _log.ReadAllForwardAsync(0, int.MaxValue, CancellationToken.None)).LastOrDefault()?.GlobalPosition ?? 0;
        await _streams.AppendToStreamAsync(a, ExpectedVersion.NoStream, SampleEvents.Events(2), CancellationToken.None);
        await _streams.AppendToStreamAsync(b, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);
        await _streams.AppendToStreamAsync(a, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);

        var all = await _log.ReadAllForwardAsync(start, 100, CancellationToken.None);
        var tail = await _log.ReadAllForwardAsync(all[1].GlobalPosition, 100, CancellationToken.None);

        Assert.Equal([(a, 1L), (a, 2L), (b, 1L), (a, 3L)], all.Select(e => (e.StreamId, e.Version)));
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.GlobalPosition < p.Second.GlobalPosition));
        Assert.Equal(all.Skip(2).Select(e => e.EventId), tail.Select(e => e.EventId));
    }

    [Fact]
    public async Task A_transaction_that_began_writing_before_a_newer_append_to_the_stream_appends_after_it_in_version_and_commit_order()
    {
        var id = SampleEvents.NewStreamId("job");
        var start = await SettledTail.EndAsync(database.DataSource);
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var earlier = await connection.BeginTransactionAsync();
        await using (var write = new NpgsqlCommand("select pg_current_xact_id()", connection, earlier))
        {
            await write.ExecuteScalarAsync();
        }
        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);

        var version = await _streams.AppendToStreamAsync(earlier, id, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
        await earlier.CommitAsync();

        Assert.Equal(2, version);
        var tail = await new EventLog(database.DataSource).ReadTailAsync(start, 10, CancellationToken.None);
        Assert.Equal([1L, 2L], tail.Where(e => e.StreamId == id).Select(e => e.Version));
    }

    [Fact]
    public async Task A_transaction_that_began_writing_early_appends_when_no_newer_append_came_between()
    {
        var id = SampleEvents.NewStreamId("job");
        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var write = new NpgsqlCommand("select pg_current_xact_id()", connection, transaction))
        {
            await write.ExecuteScalarAsync();
        }

        var version = await _streams.AppendToStreamAsync(transaction, id, 1, SampleEvents.Events(1), CancellationToken.None);
        await transaction.CommitAsync();

        Assert.Equal(2, version);
    }

    [Fact]
    public async Task One_transaction_appends_to_several_streams_after_locking_them_all_first()
    {
        var a = SampleEvents.NewStreamId("job-a");
        var b = SampleEvents.NewStreamId("job-b");
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        await EventStreams.LockAsync(transaction, [a, b], CancellationToken.None);
        var va = await _streams.AppendToStreamAsync(transaction, a, ExpectedVersion.NoStream, SampleEvents.Events(2), CancellationToken.None);
        var vb = await _streams.AppendToStreamAsync(transaction, b, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);
        await transaction.CommitAsync();

        Assert.Equal((2L, 1L), (va, vb));
        var written = (await _streams.ReadStreamForwardAsync(a, 1, 10, CancellationToken.None))
            .Concat(await _streams.ReadStreamForwardAsync(b, 1, 10, CancellationToken.None));
        Assert.Single(written.Select(e => e.Commit).Distinct());
    }

    [Fact]
    public async Task Appending_each_once_to_streams_another_writer_holds_waits_for_it_and_appends_after_its_versions()
    {
        var ids = Enumerable.Range(0, 300).Select(_ => SampleEvents.NewStreamId("job")).Order(StringComparer.Ordinal).ToArray();
        await _streams.InTransactionAsync(t => _streams.AppendEachOnceAsync(t, [.. ids.Select(id => (id, SampleEvents.Event()))], CancellationToken.None), CancellationToken.None);
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var holder = await connection.BeginTransactionAsync();
        await _streams.AppendEachOnceAsync(holder, [.. ids.Select(id => (id, SampleEvents.Event()))], CancellationToken.None);
        var waitingBefore = await WaitingForLocksAsync();

        // Its heads move while the second writer waits for them: each is locked again where the first left it.
        var later = ids.Select(id => (id, SampleEvents.Event())).ToArray();
        var waiting = _streams.InTransactionAsync(t => _streams.AppendEachOnceAsync(t, later, CancellationToken.None), CancellationToken.None);
        await Eventually.True(
            async () => waiting.IsCompleted || await WaitingForLocksAsync() > waitingBefore, TimeSpan.FromSeconds(30), "the second writer to wait for the locks");
        Assert.False(waiting.IsCompleted);
        await holder.CommitAsync();
        var versions = await waiting;

        Assert.All(versions, v => Assert.Equal(3L, v));
        foreach (var (id, e) in later.Take(3).Append(later[^1]))
        {
            Assert.Equal(e.EventId, (await _streams.ReadStreamForwardAsync(id, 3, 10, CancellationToken.None)).Single().EventId);
        }
    }

    async Task<long> WaitingForLocksAsync()
    {
        await using var command = database.DataSource.CreateCommand("select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'");
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task An_append_in_a_rolled_back_transaction_leaves_no_trace()
    {
        var id = SampleEvents.NewStreamId("job");
        await using (var connection = await database.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await _streams.AppendToStreamAsync(transaction, id, ExpectedVersion.NoStream, SampleEvents.Events(2), CancellationToken.None);
            await transaction.RollbackAsync();
        }

        Assert.Equal(0, await _streams.ReadVersionAsync(id, CancellationToken.None));
        Assert.Equal(1, await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None));
    }
}
