using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Projections;
using Streaming.Projections.Tail;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Tail;

/// <summary>When folds write: on their timers, with their checkpoints; never because the log went quiet.</summary>
public sealed class FoldWriteTimingTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    readonly EventStreams _streams = new(database.DataSource);
    readonly string _name = "timed-" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync()
    {
        await HandledEvents.CreateAsync(database.DataSource);
        await CountingFold.CreateTableAsync(database.DataSource);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_quiet_log_makes_no_fold_write_however_often_the_tail_reads_it()
    {
        // Given a tail polling every 20 ms with a buffered fold and a transactional fold that have written all there is
        var id = SampleEvents.NewStreamId("quiet");
        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(10), CancellationToken.None);
        var counting = new CountingFold(_name + ":buffered");
        var buffered = new BufferedFold<CountingFold.Count>(database.DataSource, counting, new FoldOptions(), NullLogger.Instance);
        var transactional = new TransactionalFold(database.DataSource, _name + ":transactional", RecordAsync);
        var tail = new LogTail(database.DataSource, [buffered, transactional],
            new TailOptions { PollInterval = TimeSpan.FromMilliseconds(20), TickInterval = TimeSpan.FromMilliseconds(20) }, new LoopHealth(), NullLoggerFactory.Instance);
        await using var running = new RunningTail(tail);
        var end = (await SettledTail.EndAsync(database.DataSource))[0];
        await Eventually.True(async () => await CheckpointAsync(counting.Name) == end && await CheckpointAsync(transactional.Name) == end, Deadline,
            "both folds to write what they folded");
        var commits = (buffered.Commits, transactional.Commits);
        var rows = await RowVersionsAsync(counting.Name, transactional.Name);

        // When the tail reads the quiet log a hundred times more (over two seconds: longer than every write timer)
        var reads = tail.Reads;
        await Eventually.True(() => Task.FromResult(tail.Reads >= reads + 100), Deadline, "the tail to read the quiet log again and again");

        // Then neither fold committed anything, nor changed a row of its checkpoint or its table
        Assert.Equal(commits, (buffered.Commits, transactional.Commits));
        Assert.Equal(rows, await RowVersionsAsync(counting.Name, transactional.Name));
    }

    [Fact]
    public async Task A_busy_log_is_written_on_the_timer_not_batch_by_batch_and_a_restart_resumes_exactly()
    {
        // Given a buffered fold on a tail that reads one event at a time
        var id = SampleEvents.NewStreamId("busy");
        var counting = new CountingFold(_name + ":busy");
        var fold = new BufferedFold<CountingFold.Count>(database.DataSource, counting, new FoldOptions(), NullLogger.Instance);
        var tail = new LogTail(database.DataSource, [fold], new TailOptions { ReadBatchSize = 1, PollInterval = TimeSpan.FromMilliseconds(20) },
            new LoopHealth(), NullLoggerFactory.Instance);
        var started = DateTime.UtcNow;
        await using (var running = new RunningTail(tail))
        {
            // When 60 events are appended one by one, each handed to the fold in a batch of its own
            for (var i = 0; i < 60; i++)
            {
                await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
            }
            await Eventually.True(async () => await CountedAsync(counting.Name, id) == 60, Deadline, "the fold to write all 60 events");
        }
        var seconds = (DateTime.UtcNow - started).TotalSeconds;

        // Then it wrote at most about once a second (one more for the write when the tail stopped)
        Assert.True(fold.Commits <= Math.Ceiling(seconds) + 2, $"{fold.Commits} commits in {seconds:0.0} s");
        Assert.True(fold.Handled >= 60);

        // And a restart resumes from the checkpoint written with the states: 30 more events make 90, none counted twice
        for (var i = 0; i < 30; i++)
        {
            await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
        }
        var resumed = new BufferedFold<CountingFold.Count>(database.DataSource, new CountingFold(counting.Name), new FoldOptions(), NullLogger.Instance);
        await using (var running = new RunningTail(new LogTail(database.DataSource, [resumed], new TailOptions { PollInterval = TimeSpan.FromMilliseconds(20) },
            new LoopHealth(), NullLoggerFactory.Instance)))
        {
            await Eventually.True(async () => await CountedAsync(counting.Name, id) >= 90, Deadline, "the resumed fold to write the 30 new events");
        }
        Assert.Equal(90, await CountedAsync(counting.Name, id));
        Assert.Equal(30, resumed.Handled);
    }

    [Fact]
    public async Task A_fold_writing_aside_goes_on_folding_and_committing_while_its_write_is_held_open_and_a_restart_resumes_exactly()
    {
        // Given a fold that writes its states beside it (as the Promoter's decisions do), whose first write is held open
        var id = SampleEvents.NewStreamId("aside");
        var held = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var counting = new CountingFold(_name + ":aside", held.Task);
        var options = new FoldOptions { FlushInterval = TimeSpan.FromMilliseconds(50), WriteAside = true };
        var fold = new BufferedFold<CountingFold.Count>(database.DataSource, counting, options, NullLogger.Instance);
        var tail = new LogTail(database.DataSource, [fold],
            new TailOptions { PollInterval = TimeSpan.FromMilliseconds(20), TickInterval = TimeSpan.FromMilliseconds(20) }, new LoopHealth(), NullLoggerFactory.Instance);
        await using (var running = new RunningTail(tail))
        {
            await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(10), CancellationToken.None);
            await counting.SaveStarted.WaitAsync(Deadline);

            // When 20 more events are appended while that write is held
            await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(20), CancellationToken.None);

            // Then the fold folds them and commits their effects meanwhile, and nothing is written yet
            await Eventually.True(() => Task.FromResult(counting.Committed(id) == 30), Deadline, "the fold to commit the effects of all 30 events");
            Assert.Equal(0, await CountedAsync(counting.Name, id));
            Assert.Null(await CheckpointAsync(counting.Name));

            // And once the write is let go, the states and checkpoint of all 30 are written
            held.SetResult();
            await Eventually.True(async () => await CountedAsync(counting.Name, id) == 30, Deadline, "the fold to write all 30 events");
        }

        // And a restart resumes from the checkpoint written with the states: 5 more events make 35, none counted twice
        await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(5), CancellationToken.None);
        var resumed = new BufferedFold<CountingFold.Count>(database.DataSource, new CountingFold(counting.Name), options, NullLogger.Instance);
        await using (var running = new RunningTail(new LogTail(database.DataSource, [resumed], new TailOptions { PollInterval = TimeSpan.FromMilliseconds(20) },
            new LoopHealth(), NullLoggerFactory.Instance)))
        {
            await Eventually.True(async () => await CountedAsync(counting.Name, id) >= 35, Deadline, "the resumed fold to write the 5 new events");
        }
        Assert.Equal(35, await CountedAsync(counting.Name, id));
        Assert.Equal(5, resumed.Handled);
    }

    [Fact]
    public async Task Changes_that_can_wait_stay_unwritten_under_load_with_the_checkpoint_before_them_and_a_crash_folds_them_again_exactly()
    {
        // Given a fold whose changes after a stream's first may wait an hour, and two streams it has written
        var waits = SampleEvents.NewStreamId("waits");
        var busy = SampleEvents.NewStreamId("busy");
        var options = new FoldOptions { FlushInterval = TimeSpan.FromSeconds(1), WaitingWriteInterval = TimeSpan.FromHours(1) };
        static bool AfterTheFirst(CountingFold.Count before, CountingFold.Count after) => before.Events > 0;
        var counting = new CountingFold(_name + ":waits", canWait: AfterTheFirst);
        var fold = new BufferedFold<CountingFold.Count>(database.DataSource, counting, options, NullLogger.Instance);
        var tail = new LogTail(database.DataSource, [fold],
            new TailOptions { PollInterval = TimeSpan.FromMilliseconds(20), TickInterval = TimeSpan.FromMilliseconds(20) }, new LoopHealth(), NullLoggerFactory.Instance);
        var running = new RunningTail(tail);
        await _streams.AppendToStreamAsync(waits, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);
        await _streams.AppendToStreamAsync(busy, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);
        var written = (await SettledTail.EndAsync(database.DataSource))[0];
        await Eventually.True(async () => await CountedAsync(counting.Name, waits) == 1 && await CountedAsync(counting.Name, busy) == 1
            && await CheckpointAsync(counting.Name) == written, Deadline, "the fold to write both streams' first events");

        // When 20 more events of the one stream are folded while the other keeps the log busy
        using var stopLoad = new CancellationTokenSource();
        var busyEvents = 1L;
        var load = Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                await _streams.AppendToStreamAsync(busy, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
                Interlocked.Increment(ref busyEvents);
            }
        });
        await _streams.AppendToStreamAsync(waits, ExpectedVersion.Any, SampleEvents.Events(20), CancellationToken.None);
        await Eventually.True(() => Task.FromResult(counting.Committed(waits) == 21 && counting.Committed(busy) >= 20), Deadline,
            "the fold to fold the 20 events and 20 of the busy stream's");

        // Then neither stream's row nor the checkpoint moved past what was written before them
        Assert.Equal(1, await CountedAsync(counting.Name, waits));
        Assert.Equal(1, await CountedAsync(counting.Name, busy));
        Assert.Equal(written, await CheckpointAsync(counting.Name));

        // And when the process dies holding them (its last saves fail), a new one folds them again from that checkpoint
        counting.FailSaves = true;
        await stopLoad.CancelAsync();
        await load;
        await running.StopAsync();
        Assert.Equal(1, await CountedAsync(counting.Name, waits));
        var resumed = new BufferedFold<CountingFold.Count>(database.DataSource, new CountingFold(counting.Name, canWait: AfterTheFirst), options, NullLogger.Instance);
        await using (new RunningTail(new LogTail(database.DataSource, [resumed],
            new TailOptions { PollInterval = TimeSpan.FromMilliseconds(20), TickInterval = TimeSpan.FromMilliseconds(20) }, new LoopHealth(), NullLoggerFactory.Instance)))
        {
            // And the quiet log has it write every change at once, each event counted once
            await Eventually.True(async () => await CountedAsync(counting.Name, waits) == 21 && await CountedAsync(counting.Name, busy) == Interlocked.Read(ref busyEvents),
                Deadline, "the resumed fold to write every event");
            Assert.Equal(20 + Interlocked.Read(ref busyEvents) - 1, resumed.Handled);
        }
        Assert.Equal(21, await CountedAsync(counting.Name, waits));
        Assert.Equal(Interlocked.Read(ref busyEvents), await CountedAsync(counting.Name, busy));
    }

    [Fact]
    public async Task A_fold_that_writes_rarely_under_load_writes_what_changed_once_the_log_is_quiet_for_its_quiet_interval()
    {
        // Given a fold that writes at most once an hour under load, but counts the log quiet after 50 ms without events
        // (the Promoter's states: rarely under load, with the checkpoint as soon as the log is quiet)
        var id = SampleEvents.NewStreamId("rarely");
        var counting = new CountingFold(_name + ":rarely");
        var options = new FoldOptions { FlushInterval = TimeSpan.FromHours(1), MaxFlushInterval = TimeSpan.FromHours(6), QuietAfter = TimeSpan.FromMilliseconds(50) };
        var fold = new BufferedFold<CountingFold.Count>(database.DataSource, counting, options, NullLogger.Instance);
        await using var running = new RunningTail(new LogTail(database.DataSource, [fold],
            new TailOptions { PollInterval = TimeSpan.FromMilliseconds(20), TickInterval = TimeSpan.FromMilliseconds(20) }, new LoopHealth(), NullLoggerFactory.Instance));

        // and has written what the log held before (earlier tests' events, or a first one of its own)
        await _streams.AppendToStreamAsync(SampleEvents.NewStreamId("before"), ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);
        var caughtUp = (await SettledTail.EndAsync(database.DataSource))[0];
        await Eventually.True(async () => await CheckpointAsync(counting.Name) == caughtUp, Deadline, "the fold to write what the log held");
        var commits = fold.Commits;

        // When 10 events are appended and the log stays quiet
        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(10), CancellationToken.None);
        var end = (await SettledTail.EndAsync(database.DataSource))[0];

        // Then their state is written with the checkpoint, in one write, long before the hour is up
        await Eventually.True(async () => await CheckpointAsync(counting.Name) == end, Deadline, "the fold to write on the quiet log");
        Assert.Equal(10, await CountedAsync(counting.Name, id));
        Assert.Equal(commits + 1, fold.Commits);
    }

    [Fact]
    public async Task A_quiet_log_has_every_waiting_change_written_at_once_a_write_at_a_time_each_writes_rows_computed_once()
    {
        // Given a fold whose changes after a stream's first may wait an hour, which writes at most 4 states at a time,
        // and 10 streams it has written
        var streams = Enumerable.Range(0, 10).Select(_ => SampleEvents.NewStreamId("quietly")).ToList();
        var busy = SampleEvents.NewStreamId("busy");
        var options = new FoldOptions { FlushInterval = TimeSpan.FromSeconds(1), WaitingWriteInterval = TimeSpan.FromHours(1), MaxChanged = 4 };
        var counting = new CountingFold(_name + ":quietly", canWait: (before, _) => before.Events > 0);
        var fold = new BufferedFold<CountingFold.Count>(database.DataSource, counting, options, NullLogger.Instance);
        await using var running = new RunningTail(new LogTail(database.DataSource, [fold],
            new TailOptions { PollInterval = TimeSpan.FromMilliseconds(20), TickInterval = TimeSpan.FromMilliseconds(20) }, new LoopHealth(), NullLoggerFactory.Instance));
        foreach (var id in streams.Append(busy))
        {
            await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);
        }
        var written = (await SettledTail.EndAsync(database.DataSource))[0];
        await Eventually.True(async () => await CheckpointAsync(counting.Name) == written, Deadline, "the fold to write the streams' first events");

        // When each stream gets two more events while another keeps the log busy, and then the log goes quiet
        var busyEvents = 1L;
        using (var stopLoad = new CancellationTokenSource())
        {
            var load = Task.Run(async () =>
            {
                while (!stopLoad.IsCancellationRequested)
                {
                    await _streams.AppendToStreamAsync(busy, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
                    Interlocked.Increment(ref busyEvents);
                }
            });
            foreach (var id in streams)
            {
                await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(2), CancellationToken.None);
            }
            await Eventually.True(() => Task.FromResult(streams.All(id => counting.Committed(id) == 3)), Deadline, "the fold to fold every stream's two events");
            Assert.Equal(written, await CheckpointAsync(counting.Name));
            await stopLoad.CancelAsync();
            await load;
        }
        var before = (fold.Commits, counting.Prepared.Count);
        var end = (await SettledTail.EndAsync(database.DataSource))[0];
        await Eventually.True(async () => await CheckpointAsync(counting.Name) == end, Deadline, "the quiet log to have everything written");

        // Then all 11 waiting states were written in three writes of 4, 4 and 3, each one's rows computed once
        foreach (var id in streams)
        {
            Assert.Equal(3, await CountedAsync(counting.Name, id));
        }
        Assert.Equal(Interlocked.Read(ref busyEvents), await CountedAsync(counting.Name, busy));
        Assert.Equal(before.Commits + 3, fold.Commits);
        Assert.Equal([4, 4, 3], counting.Prepared.Skip(before.Count));
    }

    Task<TailPosition?> CheckpointAsync(string name) => SettledTail.CheckpointAsync(database.DataSource, name);

    Task<long> CountedAsync(string fold, string streamId) => CountingFold.CountedAsync(database.DataSource, fold, streamId);

    // Every row version (xmin) of the folds' checkpoints and tables: a write of any of them changes it.
    async Task<string> RowVersionsAsync(string buffered, string transactional)
    {
        await using var command = database.DataSource.CreateCommand(
            """
            select string_agg(v, ',' order by v) from (
              select name || ':' || xmin::text as v from es.checkpoints where name = any($1)
              union all select stream_id || ':' || xmin::text from counted where fold = $2
              union all select event_id::text || ':' || xmin::text from handled where subscription = $3) rows
            """);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [buffered, transactional] });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = buffered });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = transactional });
        return (string)(await command.ExecuteScalarAsync())!;
    }

    Task RecordAsync(IReadOnlyList<LogEvent> events, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        HandledEvents.RecordAsync(_name + ":transactional", events, transaction, cancellationToken);
}
