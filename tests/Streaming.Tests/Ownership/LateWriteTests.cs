using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Cli;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Projections;
using Streaming.Projections.Tail;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Tail;

namespace Streaming.Tests.Ownership;

/// <summary>
/// A buffered fold's writes for partitions its instance no longer follows, and what another instance of it, which
/// follows them now, makes of them: the way a PostgreSQL restart with two Promoters made them decide unlike one
/// (README, "Reliability", seed 2). A log of two partitions; the job is in partition 1.
/// </summary>
public sealed class LateWriteTests : IAsyncLifetime
{
    const int Moved = 1;
    static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    static readonly LogPartitioner Partitioner = new(2, ControlStreamPrefixes.All);
    static readonly TailOptions Quick = new() { PollInterval = TimeSpan.FromMilliseconds(50), TickInterval = TimeSpan.FromMilliseconds(20) };
    // Writes only when stopping (or caught up), as a busy fold between its timers.
    static readonly FoldOptions Rarely = new() { FlushInterval = TimeSpan.MaxValue, MaxFlushInterval = TimeSpan.MaxValue };

    readonly TestDatabase _database = new();
    readonly string _name = "late-" + Guid.NewGuid().ToString("N");

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await EventStoreSchema.MigrateAsync(_database.DataSource, StoreSchema.ServiceMigrations, Partitioner, CancellationToken.None);
        await CountingFold.CreateTableAsync(_database.DataSource);
    }

    public Task DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task A_run_stopped_while_its_fold_waits_for_PostgreSQL_to_start_writes_nothing_its_last_run_held()
    {
        // Given a fold (its PostgreSQL behind a gate) whose run over partitions 0 and 1 folded 5 events of a job in 1 and
        // could not write them when it stopped, PostgreSQL away
        var server = new NpgsqlConnectionStringBuilder(_database.ConnectionString);
        await using var gate = new TcpGate(server.Host!, server.Port);
        await using var throughGate = NpgsqlDataSource.Create(
            new NpgsqlConnectionStringBuilder(_database.ConnectionString) { Host = "127.0.0.1", Port = gate.Port, Pooling = false }.ConnectionString);
        var job = PartitionedDatabase.JobIn(Partitioner, Moved);
        await AppendAsync(job, 5);
        var counting = new CountingFold(_name);
        var tail = new LogTail(_database.DataSource, [new BufferedFold<CountingFold.Count>(throughGate, counting, Rarely, NullLogger.Instance)],
            Quick, new LoopHealth(), NullLoggerFactory.Instance);
        await using (new RunningTail(tail, FollowedPartitions.Share([0, Moved], Partitioner)))
        {
            await Eventually.True(() => Task.FromResult(counting.Committed(job) == 5), Deadline, "the run to fold the job's 5 events");
            gate.Cut();
        }
        Assert.Null(await CheckpointAsync(Moved));

        // When its next run, over partition 0 alone (the group gave 1 to another instance), is stopped while the fold is
        // still trying to load its checkpoints, just as PostgreSQL is back (its next try a backoff away)
        var refused = gate.Refused;
        var second = new RunningTail(tail, FollowedPartitions.Share([0], Partitioner));
        await Eventually.True(() => Task.FromResult(gate.Refused >= refused + 5), Deadline, "the fold to try to start 5 times");
        gate.Restore();
        var stopped = await second.StopAsync();

        // Then it wrote nothing for partition 1: the last run's 5 events and its position there, written now, would be
        // taken by the instance following 1 for its own work, if it had loaded its checkpoint before (see below)
        Assert.True(stopped is null or OperationCanceledException, $"the run failed: {stopped}");
        Assert.Null(await CheckpointAsync(Moved));
        Assert.Equal(0, await CountedAsync(job));
    }

    [Fact]
    public async Task A_fold_refuses_states_another_instance_saved_past_its_checkpoint_after_it_started()
    {
        // Given a fold that saved 5 events of a job in partition 1 with its checkpoint
        var job = PartitionedDatabase.JobIn(Partitioner, Moved);
        await AppendAsync(job, 5);
        var late = Fold(new CountingFold(_name));
        await late.StartAsync(CancellationToken.None);
        await FoldCatchUp.RunAsync(late, Source(), CancellationToken.None);
        var saved = await CheckpointAsync(Moved);

        // And a successor of it (another instance, following the partition now) started from that checkpoint
        await AppendAsync(job, 3);
        var counting = new CountingFold(_name);
        var successor = Fold(counting);
        await successor.StartAsync(CancellationToken.None);

        // When the first, still holding the partition, writes the job's 3 new events late (past a drain's timeout)
        await FoldCatchUp.RunAsync(late, Source(), CancellationToken.None);
        Assert.Equal(8, await CountedAsync(job));

        // Then the successor, handed the log after its checkpoint, does not fold it on the job's state saved past it
        // (3 events counted twice): it is fenced in that partition, as at a save
        var batch = await Source().ReadAsync(successor.Position, archive: false, CancellationToken.None);
        var conflict = await Assert.ThrowsAsync<CheckpointConflictException>(() => successor.ApplyAsync(batch, CancellationToken.None));
        Assert.Equal([Moved], conflict.Partitions);
        Assert.Equal(saved, conflict.Expected);
        Assert.Equal(0, counting.Committed(job));
        Assert.Equal(8, await CountedAsync(job));
    }

    BufferedFold<CountingFold.Count> Fold(CountingFold counting) => new(_database.DataSource, counting, Rarely, NullLogger.Instance);

    LogSource Source() => new(_database.DataSource, NullLogger.Instance);

    Task AppendAsync(string streamId, int events) =>
        new EventStreams(_database.DataSource).AppendToStreamAsync(streamId, ExpectedVersion.Any, SampleEvents.Events(events), CancellationToken.None);

    Task<long> CountedAsync(string streamId) => CountingFold.CountedAsync(_database.DataSource, _name, streamId);

    Task<TailPosition?> CheckpointAsync(int partition) => SettledTail.CheckpointAsync(_database.DataSource, _name, partition);
}
