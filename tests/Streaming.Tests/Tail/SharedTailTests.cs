using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Projections.Tail;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Tail;

/// <summary>
/// The process's one reader of the log (<see cref="LogTail"/>) with a fold that writes each batch in the transaction
/// that moves its checkpoint (<see cref="TransactionalFold"/>): resuming, failing, waking, reconnecting, polling, fencing.
/// </summary>
public sealed class SharedTailTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>, IAsyncLifetime
{
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);
    static readonly TimeSpan Prompt = TimeSpan.FromSeconds(5);

    readonly EventStreams _streams = new(database.DataSource);
    readonly string _name = "fold-" + Guid.NewGuid().ToString("N");

    public Task InitializeAsync() => HandledEvents.CreateAsync(database.DataSource);

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task After_being_stopped_it_resumes_from_its_checkpoint_losing_and_repeating_nothing()
    {
        var id = SampleEvents.NewStreamId("resume");
        for (var i = 0; i < 5; i++)
        {
            await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(5), CancellationToken.None);
        }

        await RunUntilAsync(Fold(), Options(batch: 7, poll: TimeSpan.FromMilliseconds(50)), () => HandledCountAsync(id, 25));
        for (var i = 0; i < 3; i++)
        {
            await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(5), CancellationToken.None);
        }
        var resumed = Fold();
        await RunUntilAsync(resumed, Options(batch: 7, poll: TimeSpan.FromMilliseconds(50)), () => HandledCountAsync(id, 40));

        Assert.Equal(Enumerable.Range(1, 40).Select(v => (long)v), await HandledVersionsAsync(id));
        Assert.Equal(await EndOfTailAsync(), resumed.Position);
        Assert.True(resumed.Handled < 40 + 7, $"the resumed instance handled {resumed.Handled} events: it did not start from its checkpoint");
    }

    [Fact]
    public async Task A_handler_failure_rolls_back_the_batch_with_its_checkpoint_and_the_batch_is_delivered_again()
    {
        var id = SampleEvents.NewStreamId("failing");
        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(5), CancellationToken.None);
        await EndOfTailAsync();
        var deliveries = new List<Guid[]>();
        var fold = new TransactionalFold(database.DataSource, _name, async (events, transaction, ct) =>
        {
            await RecordAsync(events, transaction, ct);
            deliveries.Add(events.Select(e => e.Event.EventId).ToArray());
            if (deliveries.Count == 1)
            {
                throw new InvalidOperationException("the handler failed");
            }
        });
        await fold.StartAsync(CancellationToken.None);
        var source = new LogSource(database.DataSource, NullLogger.Instance, batchSize: 3);

        await Assert.ThrowsAsync<InvalidOperationException>(() => FoldCatchUp.RunAsync(fold, source, CancellationToken.None));
        var checkpointAfterFailure = await LoadCheckpointAsync();
        var handledAfterFailure = await HandledVersionsAsync(id);
        var handled = await FoldCatchUp.RunAsync(fold, source, CancellationToken.None);

        Assert.Null(checkpointAfterFailure);
        Assert.Empty(handledAfterFailure);
        Assert.NotEmpty(deliveries[0]);
        Assert.Equal(deliveries[0], deliveries[1]);
        // The fold kept what failed and wrote it again; the second run read nothing new for it
        Assert.Equal(0, handled);
        Assert.Equal(deliveries.Skip(1).Sum(d => d.Length), fold.Handled);
        Assert.Equal([1L, 2L, 3L, 4L, 5L], await HandledVersionsAsync(id));
        Assert.Equal((await EndOfTailAsync())[0], await LoadCheckpointAsync());
    }

    [Fact]
    public async Task A_run_stops_on_a_handler_failure_and_leaves_the_batch_unhandled()
    {
        var id = SampleEvents.NewStreamId("stopping");
        await _streams.AppendToStreamAsync(id, ExpectedVersion.NoStream, SampleEvents.Events(3), CancellationToken.None);
        var fold = new TransactionalFold(database.DataSource, _name, (_, _, _) => throw new InvalidOperationException("the handler failed"));

        await Assert.ThrowsAsync<InvalidOperationException>(() => Tail(Options(), fold).RunAsync(CancellationToken.None));

        Assert.Null(await LoadCheckpointAsync());
    }

    [Fact]
    public async Task A_notification_wakes_it_long_before_its_poll_interval()
    {
        var id = SampleEvents.NewStreamId("notified");
        var fold = Fold();
        await using var running = new RunningTail(Tail(Options(poll: TimeSpan.FromSeconds(30)), fold));
        await Eventually.True(async () => await ListenerPidAsync() is not null, Deadline, "the tail to LISTEN");
        await Eventually.True(async () => fold.Position == await EndOfTailAsync(), Deadline, "the fold to catch up");

        // Three appends in a row each handled within seconds: a 30 s poll cannot explain them, only notifications.
        for (var i = 1; i <= 3; i++)
        {
            await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
            var expected = i;
            await Eventually.True(() => HandledCountAsync(id, expected), Prompt, $"append {i} to be handled");
        }
    }

    [Fact]
    public async Task A_long_transaction_outside_the_log_does_not_delay_the_tail()
    {
        var id = SampleEvents.NewStreamId("not-held-back");
        var fold = Fold();
        var tail = Tail(Options(poll: TimeSpan.FromSeconds(30)), fold);
        await using var running = new RunningTail(tail);
        await Eventually.True(async () => await ListenerPidAsync() is not null, Deadline, "the tail to LISTEN");
        await Eventually.True(async () => fold.Position == await EndOfTailAsync(), Deadline, "the fold to catch up");
        // An older transaction writes elsewhere, as a projection's flush does, and stays open for the whole test.
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var older = await connection.BeginTransactionAsync();
        await using (var write = new NpgsqlCommand(
            "insert into handled (subscription, event_id, stream_id, version) values ('outside', gen_random_uuid(), $1, 1)", connection, older))
        {
            write.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
            await write.ExecuteNonQueryAsync();
        }

        for (var i = 1; i <= 3; i++)
        {
            await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
            var expected = i;
            await Eventually.True(() => HandledCountAsync(id, expected), Prompt, $"append {i} to be handled while the older transaction is open");
        }

        Assert.Equal(System.Data.ConnectionState.Open, connection.State);
        await older.RollbackAsync();
    }

    [Fact]
    public async Task When_the_listen_connection_drops_it_reconnects_and_is_woken_again()
    {
        var id = SampleEvents.NewStreamId("reconnected");
        var fold = Fold();
        await using var running = new RunningTail(Tail(Options(poll: TimeSpan.FromSeconds(30), reconnect: TimeSpan.FromMilliseconds(100)), fold));
        var firstListener = await Eventually.Get(ListenerPidAsync, pid => pid is not null, Deadline, "the tail to LISTEN");

        await using (var kill = database.DataSource.CreateCommand("select pg_terminate_backend($1)"))
        {
            kill.Parameters.Add(new NpgsqlParameter<int> { TypedValue = firstListener!.Value });
            await kill.ExecuteNonQueryAsync();
        }
        await Eventually.True(async () => await ListenerPidAsync() is { } pid && pid != firstListener, Deadline, "a new LISTEN connection");
        await Eventually.True(async () => fold.Position == await EndOfTailAsync(), Deadline, "the fold to catch up");
        for (var i = 1; i <= 2; i++)
        {
            await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
            var expected = i;
            await Eventually.True(() => HandledCountAsync(id, expected), Prompt, $"append {i} to be handled");
        }
    }

    [Fact]
    public async Task A_stopped_tail_leaves_no_connection_listening()
    {
        await using (var running = new RunningTail(Tail(Options(), Fold())))
        {
            await Eventually.True(async () => await ListenerPidAsync() is not null, Deadline, "the tail to LISTEN");
        }

        Assert.Null(await ListenerPidAsync());
    }

    [Fact]
    public async Task An_append_that_sends_no_notification_is_still_found_by_polling()
    {
        var id = SampleEvents.NewStreamId("polled");
        var fold = Fold();
        await using var running = new RunningTail(Tail(Options(poll: TimeSpan.FromMilliseconds(100)), fold));
        await Eventually.True(async () => fold.Position == await EndOfTailAsync(), Deadline, "the fold to catch up");

        await using (var silent = database.DataSource.CreateCommand("""
            insert into es.events (stream_id, version, event_id, type, data, metadata, event_time)
            values ($1, 1, gen_random_uuid(), 'silent', '{}', '{}', now())
            """))
        {
            silent.Parameters.Add(new NpgsqlParameter<string> { TypedValue = id });
            await silent.ExecuteNonQueryAsync();
        }

        await Eventually.True(() => HandledCountAsync(id, 1), Prompt, "the silent append to be handled");
    }

    [Fact]
    public async Task Two_running_instances_of_one_fold_handle_each_event_once()
    {
        var id = SampleEvents.NewStreamId("shared");
        var options = Options(batch: 5, poll: TimeSpan.FromMilliseconds(20));
        var first = Fold();
        var second = Fold();
        var runningFirst = new RunningTail(Tail(options, first));
        var runningSecond = new RunningTail(Tail(options, second));
        for (var i = 0; i < 20; i++)
        {
            await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(3), CancellationToken.None);
        }
        await Eventually.True(() => HandledCountAsync(id, 60), Deadline, "all appends to be handled");
        var ends = await Task.WhenAll(runningFirst.StopAsync(), runningSecond.StopAsync());

        Assert.Equal(Enumerable.Range(1, 60).Select(v => (long)v), await HandledVersionsAsync(id));
        Assert.True(first.Handled + second.Handled >= 60);
        Assert.All(ends, Assert.Null);
    }

    [Fact]
    public async Task A_fold_that_falls_behind_is_left_to_catch_up_from_the_history_archive_and_rejoins_while_the_others_go_on()
    {
        // Given a log of 300 events, most of it in the history archive
        var id = SampleEvents.NewStreamId("behind");
        for (var i = 0; i < 60; i++)
        {
            await _streams.AppendToStreamAsync(id, ExpectedVersion.Any, SampleEvents.Events(5), CancellationToken.None);
        }
        await EndOfTailAsync();
        await new Streaming.Projections.History.HistoryArchive(database.DataSource, NullLogger.Instance, blockSize: 20).CatchUpAsync(CancellationToken.None);
        var end = await EndOfTailAsync();

        // When a fold that is stuck at first shares the tail with one that keeps up, and a fold may have 20 events waiting
        var fast = Fold();
        var stuck = new GatedFold();
        var tail = new LogTail(database.DataSource, [fast, stuck],
            new TailOptions { ReadBatchSize = 10, FoldQueueEvents = 20, StallTimeout = TimeSpan.FromMilliseconds(200) }, new LoopHealth(), NullLoggerFactory.Instance);
        await using var running = new RunningTail(tail);

        // Then the other fold reads the whole log meanwhile, and the stuck one is left behind
        await Eventually.True(async () => await HandledCountAsync(id, 300), Deadline, "the fold that keeps up to handle everything");
        Assert.True(tail.Folds().Single(f => f.Fold == stuck.Name).Detachments > 0, "the stuck fold held the reader back");

        // And once it moves, it catches up on its own from the archive's blocks, then rejoins the reader at the end
        stuck.Release();
        await Eventually.True(() => Task.FromResult(stuck.Position == end), Deadline, "the stuck fold to catch up");
        await Eventually.True(() => Task.FromResult(tail.Folds().Single(f => f.Fold == stuck.Name).Attached), Deadline, "the stuck fold to rejoin");
        Assert.True(stuck.FromArchive > 0, "it did not read the archive");
        Assert.Equal(stuck.Positions.Order(), stuck.Positions);
        Assert.Equal(stuck.Positions.Distinct().Count(), stuck.Positions.Count);
    }

    /// <summary>A fold that cannot get past its first batch until released; it keeps every position it was handed.</summary>
    sealed class GatedFold : ILogFold
    {
        readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Name => "gated";

        public bool ReadsArchive => true;

        public LogPositions Position { get; private set; } = LogPositions.Start(1);

        public List<TailPosition> Positions { get; } = [];

        public int FromArchive { get; private set; }

        public void Release() => _released.TrySetResult();

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task ApplyAsync(LogBatch batch, CancellationToken cancellationToken)
        {
            await _released.Task.WaitAsync(cancellationToken);
            foreach (var logEvent in batch.After(Position))
            {
                Positions.Add(logEvent.Position);
                Position = Position.With(logEvent.Event.Partition, logEvent.Position);
            }
            FromArchive += batch.FromArchive ? 1 : 0;
        }

        public Task TickAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    TransactionalFold Fold() => new(database.DataSource, _name, RecordAsync);

    static TailOptions Options(int batch = 1000, TimeSpan? poll = null, TimeSpan? reconnect = null) => new()
    {
        ReadBatchSize = batch,
        PollInterval = poll ?? TimeSpan.FromSeconds(1),
        ReconnectDelay = reconnect ?? TimeSpan.FromSeconds(1),
    };

    LogTail Tail(TailOptions options, ILogFold fold) => new(database.DataSource, [fold], options, new LoopHealth(), NullLoggerFactory.Instance);

    Task RecordAsync(IReadOnlyList<LogEvent> events, NpgsqlTransaction transaction, CancellationToken cancellationToken) =>
        HandledEvents.RecordAsync(_name, events, transaction, cancellationToken);

    async Task RunUntilAsync(TransactionalFold fold, TailOptions options, Func<Task<bool>> done)
    {
        await using var running = new RunningTail(Tail(options, fold));
        await Eventually.True(async () => running.Run.IsCompleted || await done(), Deadline, "the fold to handle the events");
    }

    async Task<bool> HandledCountAsync(string streamId, long atLeast)
    {
        await using var command = database.DataSource.CreateCommand("select count(*) from handled where stream_id = $1 and subscription = $2");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = streamId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _name });
        return (long)(await command.ExecuteScalarAsync())! >= atLeast;
    }

    Task<List<long>> HandledVersionsAsync(string streamId) => HandledEvents.VersionsAsync(database.DataSource, _name, streamId);

    Task<TailPosition?> LoadCheckpointAsync() => SettledTail.CheckpointAsync(database.DataSource, _name);

    Task<LogPositions> EndOfTailAsync() => SettledTail.EndAsync(database.DataSource);

    async Task<int?> ListenerPidAsync()
    {
        await using var command = database.DataSource.CreateCommand(
            $"select pid from pg_stat_activity where datname = current_database() and query = 'listen {EventStoreSchema.NotificationChannel}'");
        return await command.ExecuteScalarAsync() as int?;
    }
}
