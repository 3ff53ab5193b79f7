using Npgsql;
using Streaming.Cli;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EventStore;

/// <summary>
/// Migrations 10 and 11 on a store written by the schema before them (positions by transaction id): every event keeps
/// its place in the read order, checkpoints resume exactly where they were, and appends go on after the migrated log.
/// </summary>
public sealed class CommitMigrationTests
{
    const int BeforeCommits = 9;

    static readonly int LastStoreStep = EventStoreSchema.Migrations.Max(m => m.Version);

    [Fact]
    public async Task A_store_ordered_by_transaction_id_keeps_its_order_and_its_checkpoints_resume_exactly()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            await EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, BeforeCommits, CancellationToken.None);
            // A takes its transaction id first but writes last, so by transaction id its events come before B's although
            // their global positions are higher; C takes an id between them and appends nothing.
            await using var a = await OldWriter.BeginAsync(dataSource);
            await using var c = await OldWriter.BeginAsync(dataSource);
            await using var b = await OldWriter.BeginAsync(dataSource);
            await b.AppendAsync("job-b", 3);
            await b.CommitAsync();
            await a.AppendAsync("job-a", 2);
            await a.CommitAsync();
            await c.CommitAsync();
            var oldOrder = await OldOrderAsync(dataSource);
            var (aTx, bTx, cTx) = (a.TxId, b.TxId, c.TxId);
            var aFirst = oldOrder[0].GlobalPosition;
            var aLast = oldOrder[1].GlobalPosition;
            var bSecond = oldOrder[3].GlobalPosition;
            await SaveOldCheckpointAsync(dataSource, "at-start", 0, 0);
            await SaveOldCheckpointAsync(dataSource, "inside-a", aTx, aFirst);
            await SaveOldCheckpointAsync(dataSource, "end-of-a", aTx, aLast);
            await SaveOldCheckpointAsync(dataSource, "at-c", cTx, 0);
            await SaveOldCheckpointAsync(dataSource, "inside-b", bTx, bSecond);
            await SaveOldCheckpointAsync(dataSource, "history-archive", bTx, bSecond);
            await ExecuteAsync(dataSource, $"""
                insert into es.history_blocks (end_tx_id, end_position, events, body) values ('{bTx}', {bSecond}, 4, '\x00');
                insert into es.poisoned_events (fold, tx_id, global_position, stream_id, version, event_type, error)
                values ('some-fold', '{bTx}', {bSecond}, 'job-b', 2, 'test-event', 'does not decode');
                """);

            // Through the store's last step, which today's readers need (17 gives the log its partitions: one here, so
            // nothing moves).
            var applied = await EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, LastStoreStep, CancellationToken.None);
            Assert.Equal([10, 11, 15, 16, 17], applied.Take(5));

            var log = new EventLog(dataSource);
            var tail = await log.ReadTailAsync(LogPositions.Start(1), 100, CancellationToken.None);
            Assert.Equal(oldOrder.Select(e => e.EventId), tail.Select(e => e.EventId));
            Assert.Equal([1L, 1L, 2L, 2L, 2L], tail.Select(e => e.Commit));
            Assert.Equal(await ResumeAsync(log, dataSource, "at-start"), oldOrder.Select(e => e.EventId));
            Assert.Equal(await ResumeAsync(log, dataSource, "inside-a"), oldOrder.Skip(1).Select(e => e.EventId));
            Assert.Equal(await ResumeAsync(log, dataSource, "end-of-a"), oldOrder.Skip(2).Select(e => e.EventId));
            Assert.Equal(await ResumeAsync(log, dataSource, "at-c"), oldOrder.Skip(2).Select(e => e.EventId));
            Assert.Equal(await ResumeAsync(log, dataSource, "inside-b"), oldOrder.Skip(4).Select(e => e.EventId));
            Assert.Equal(TailPosition.Start, await SettledTail.CheckpointAsync(dataSource, "at-start"));
            Assert.Null(await SettledTail.CheckpointAsync(dataSource, "history-archive"));
            Assert.Equal(0L, await ScalarAsync(dataSource, "select count(*) from es.history_blocks"));
            Assert.Equal(2L, await ScalarAsync(dataSource, $"select commit from es.poisoned_events where global_position = {bSecond}"));

            // The later migrations (16: the leaner append) take the store to today's append path.
            await EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, CancellationToken.None);
            var streams = new EventStreams(dataSource);
            await streams.AppendToStreamAsync("job-c", ExpectedVersion.NoStream, SampleEvents.Events(1), CancellationToken.None);
            var appended = await log.ReadTailAsync(LogPositions.At(0, tail[^1].Position), 100, CancellationToken.None);
            Assert.Equal([(3L, "job-c", 1L)], appended.Select(e => (e.Commit, e.StreamId, e.Version)));
            Assert.Equal(LogPositions.At(0, new TailPosition(3, appended[0].GlobalPosition)), await log.ReadTailEndAsync([0], CancellationToken.None));
        });
    }

    [Fact]
    public async Task A_writer_still_on_the_old_schema_during_the_migration_finishes_first_and_its_events_get_a_commit()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            await EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, BeforeCommits, CancellationToken.None);
            await using var inFlight = await OldWriter.BeginAsync(dataSource);
            await inFlight.AppendAsync("job-old", 1);

            var migrating = EventStoreSchema.MigrateAsync(dataSource, StoreSchema.ServiceMigrations, LastStoreStep, CancellationToken.None);
            await Eventually.True(() => AnyoneWaitsForALockAsync(dataSource), TimeSpan.FromSeconds(30), "the migration to wait for the writer");
            await inFlight.CommitAsync();
            await migrating;
            await using (var late = await OldWriter.BeginAsync(dataSource))
            {
                await late.AppendAsync("job-late", 1);
                await late.CommitAsync();
            }

            var tail = await new EventLog(dataSource).ReadTailAsync(LogPositions.Start(1), 100, CancellationToken.None);
            Assert.Equal([("job-old", 1L), ("job-late", 2L)], tail.Select(e => (e.StreamId, e.Commit)));
        });
    }

    static async Task<IReadOnlyList<Guid>> ResumeAsync(EventLog log, NpgsqlDataSource dataSource, string checkpoint)
    {
        var from = await SettledTail.CheckpointAsync(dataSource, checkpoint) ?? throw new InvalidOperationException($"no checkpoint {checkpoint}");
        return [.. (await log.ReadTailAsync(LogPositions.At(0, from), 100, CancellationToken.None)).Select(e => e.EventId)];
    }

    static async Task<List<(Guid EventId, long GlobalPosition)>> OldOrderAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("select event_id, global_position from es.events order by tx_id, global_position");
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<(Guid, long)>();
        while (await reader.ReadAsync())
        {
            events.Add((reader.GetGuid(0), reader.GetInt64(1)));
        }
        return events;
    }

    static Task SaveOldCheckpointAsync(NpgsqlDataSource dataSource, string name, ulong txId, long position) =>
        ExecuteAsync(dataSource, $"insert into es.checkpoints (name, tx_id, position) values ('{name}', '{txId}', {position})");

    static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }

    static async Task<long> ScalarAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    static async Task<bool> AnyoneWaitsForALockAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            "select exists (select from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock')");
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    /// <summary>A writer of the schema before commits: a transaction that inserts events the way older builds did.</summary>
    sealed class OldWriter : IAsyncDisposable
    {
        readonly NpgsqlConnection _connection;
        readonly NpgsqlTransaction _transaction;

        OldWriter(NpgsqlConnection connection, NpgsqlTransaction transaction, ulong txId)
        {
            _connection = connection;
            _transaction = transaction;
            TxId = txId;
        }

        public ulong TxId { get; }

        public static async Task<OldWriter> BeginAsync(NpgsqlDataSource dataSource)
        {
            var connection = await dataSource.OpenConnectionAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using var command = new NpgsqlCommand("select pg_current_xact_id()", connection, transaction);
            return new OldWriter(connection, transaction, (ulong)(await command.ExecuteScalarAsync())!);
        }

        public async Task AppendAsync(string streamId, int count)
        {
            await using var command = new NpgsqlCommand("""
                insert into es.events (stream_id, version, event_id, type, data, metadata, event_time)
                select $1, v, gen_random_uuid(), 'test-event', '{}', '{}', now() from generate_series(1, $2) v
                """, _connection, _transaction);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = streamId });
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = count });
            await command.ExecuteNonQueryAsync();
        }

        public Task CommitAsync() => _transaction.CommitAsync();

        public async ValueTask DisposeAsync()
        {
            await _transaction.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
