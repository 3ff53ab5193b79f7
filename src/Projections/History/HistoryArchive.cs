using System.Buffers;
using System.Data;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Checkpointing;
using Streaming.Projections.Tail;

namespace Streaming.Projections.History;

/// <summary>
/// The history archive: a fold of the log that stores it in <see cref="HistoryBlock"/>s of <c>blockSize</c> events in
/// <c>es.history_blocks</c> (schema migration 5), each written in one transaction with the archive's checkpoint, so a
/// crash redoes at most the block it was filling and nothing is stored twice (so a block's commit does not wait for its
/// flush: one lost with the database is written again). Backtests and rebuilds (and folds catching
/// up from far behind) read the blocks instead of the events they hold: a tenth of the bytes, one row per block, and no
/// JSON to parse. Only whole blocks are written; what follows the last one is read from the log.
/// </summary>
public sealed class HistoryArchive(NpgsqlDataSource dataSource, ILogger logger, int blockSize = HistoryArchive.DefaultBlockSize) : ILogFold
{
    public const string CheckpointName = "history-archive";
    public const int DefaultBlockSize = 2_000;

    readonly FoldCheckpoint _checkpoint = new(CheckpointName);
    HistoryBlockBuilder _pending = new();
    TailPosition _read;
    bool _started;
    bool _catchingUp;
    long _archived;

    public string Name => CheckpointName;

    public bool ReadsArchive => false;

    public TailPosition Position => _read;

    /// <summary>Events written to the archive by this instance.</summary>
    public long Archived => Interlocked.Read(ref _archived);

    /// <summary>Blocks this instance committed.</summary>
    public long Commits => _checkpoint.Commits;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _read = await _checkpoint.LoadAsync(dataSource, cancellationToken);
        _pending.Dispose();
        _pending = new HistoryBlockBuilder();
        _started = true;
    }

    public async Task ApplyAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            await ArchiveAsync(batch, cancellationToken);
        }
        catch (CheckpointConflictException conflict) when (!_catchingUp)
        {
            // Another archiver (a second Projector, the archive command) wrote these blocks: go on from where it got to.
            logger.LogWarning("Another archiver moved the history archive to {Position}; continuing from there", conflict.Actual);
            await StartAsync(cancellationToken);
        }
    }

    async Task ArchiveAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        foreach (var logEvent in batch.After(_read))
        {
            if (_pending.Count == blockSize)
            {
                await WriteAsync(cancellationToken);
            }
            _pending.Add(logEvent);
            _read = logEvent.Position;
        }
        if (_pending.Count == blockSize)
        {
            await WriteAsync(cancellationToken);
        }
    }

    // Only whole blocks are written: what follows the last one waits for the block to fill.
    public Task TickAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Archives every whole block committed so far and returns how many events this call archived.</summary>
    public async Task<long> CatchUpAsync(CancellationToken cancellationToken)
    {
        if (!_started)
        {
            await StartAsync(cancellationToken);
        }
        var before = Archived;
        _catchingUp = true;
        try
        {
            await FoldCatchUp.RunAsync(this, new LogSource(dataSource, logger, DefaultBlockSize), cancellationToken);
        }
        finally
        {
            _catchingUp = false;
        }
        return Archived - before;
    }

    /// <summary>
    /// Up to <paramref name="maxBlocks"/> blocks after <paramref name="after"/>, without the events at or before it.
    /// Fewer come back at the end of the archive, or before a block that cannot be read, whose events a reader then
    /// takes from the log; such a block is logged, as the reads that follow are slower.
    /// </summary>
    public static async Task<IReadOnlyList<HistoryBlock>> ReadAsync(
        NpgsqlDataSource dataSource, TailPosition after, int maxBlocks, ILogger logger, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            select end_commit, end_position, body from es.history_blocks
             where (end_commit, end_position) > ($1, $2)
             order by end_commit, end_position
             limit $3
            """);
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.Commit });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = after.GlobalPosition });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = maxBlocks });
        NpgsqlDataReader reader;
        try
        {
            // Each body is copied into a pooled buffer, column by column, rather than held whole by the reader or in a
            // new array: a block is near 100 KB, and arrays that size are collected only with the oldest generation.
            reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UndefinedTable)
        {
            // A store from before the archive, which a reader does not migrate: all of it is in the log.
            return [];
        }
        await using var _ = reader;
        var blocks = new List<HistoryBlock>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var end = new TailPosition(reader.GetInt64(0), reader.GetInt64(1));
            var length = (int)reader.GetBytes(2, 0, null, 0, 0);
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            HistoryBlock? block;
            try
            {
                for (var read = 0; read < length;)
                {
                    read += (int)reader.GetBytes(2, read, buffer, read, length - read);
                }
                block = HistoryBlock.Decode(end, buffer, length);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
            if (block is null)
            {
                logger.LogWarning(
                    "The history archive's block ending at {End} cannot be decoded (damaged, or written by a newer version); its events and all after them are read from the log",
                    end);
                break;
            }
            blocks.Add(blocks.Count == 0 && block.Events[0].Position.CompareTo(after) <= 0
                ? block with { Events = block.Events.Where(e => e.Position.CompareTo(after) > 0).ToList() }
                : block);
        }
        return blocks;
    }

    /// <summary>The position the archive has reached (its checkpoint), or null before its first block.</summary>
    public static async Task<TailPosition?> ReachedAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await Checkpoints.LoadAsync(connection, CheckpointName, cancellationToken);
    }

    // The full pending block with the checkpoint, in one transaction; kept pending (and written again) when it fails.
    async Task WriteAsync(CancellationToken cancellationToken)
    {
        var end = _pending.End;
        var body = _pending.Finish();
        var count = _pending.Count;
        await _checkpoint.SaveAsync(dataSource, end, async (transaction, token) =>
        {
            await using var insert = new NpgsqlCommand(
                "insert into es.history_blocks (end_commit, end_position, events, body) values ($1, $2, $3, $4)", transaction.Connection, transaction);
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = end.Commit });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = end.GlobalPosition });
            insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = count });
            insert.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = body });
            await insert.ExecuteNonQueryAsync(token);
        }, cancellationToken);
        Interlocked.Add(ref _archived, _pending.Count);
        _pending.Dispose();
        _pending = new HistoryBlockBuilder();
    }
}
