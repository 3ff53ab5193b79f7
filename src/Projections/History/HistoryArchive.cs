using System.Buffers;
using System.Data;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Checkpointing;
using Streaming.Projections.Tail;

namespace Streaming.Projections.History;

/// <summary>
/// The history archive: a fold of the log that stores each partition in <see cref="HistoryBlock"/>s of <c>blockSize</c>
/// events in <c>es.history_blocks</c> (schema migrations 5, 19), each written in one transaction with that partition's
/// checkpoint of the archive, so a
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
    // Per partition: the block being filled, and the last event added to it (or written before it).
    readonly SortedDictionary<int, HistoryBlockBuilder> _pending = [];
    readonly Dictionary<int, TailPosition> _read = [];
    LogPositions? _position;
    bool _started;
    bool _catchingUp;
    long _archived;

    public string Name => CheckpointName;

    public bool ReadsArchive => false;

    public LogPositions Position => _position ??= LogPositions.Of(_read);

    /// <summary>Events written to the archive by this instance.</summary>
    public long Archived => Interlocked.Read(ref _archived);

    /// <summary>Blocks this instance committed.</summary>
    public long Commits => _checkpoint.Commits;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var resumed = await _checkpoint.LoadAsync(dataSource, cancellationToken);
        foreach (var pending in _pending.Values)
        {
            pending.Dispose();
        }
        _pending.Clear();
        _read.Clear();
        foreach (var (partition, position) in resumed)
        {
            _read[partition] = position;
        }
        _position = resumed;
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
            logger.LogWarning("Another archiver moved the history archive of partition {Partition} to {Position}; continuing from there",
                conflict.Partition, conflict.Actual);
            await StartAsync(cancellationToken);
        }
    }

    // Each partition's events go to its own blocks; a block is written, with that partition's checkpoint, once full.
    async Task ArchiveAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        foreach (var logEvent in batch.After(Position))
        {
            var partition = logEvent.Event.Partition;
            if (partition == _checkpoint.ControlOnly)
            {
                // Its owner archives it: this instance reads only its control streams there.
                _read[partition] = logEvent.Position;
                _position = null;
                continue;
            }
            var pending = Pending(partition);
            if (pending.Count == blockSize)
            {
                await WriteAsync(partition, cancellationToken);
                pending = Pending(partition);
            }
            pending.Add(logEvent);
            _read[partition] = logEvent.Position;
            _position = null;
        }
        if (_checkpoint.ControlOnly is { } control && batch.End.Contains(control) && !Position.Covers(control, batch.End[control]))
        {
            // The batch's end there may be past the last event handed (the others are its owner's).
            _read[control] = batch.End[control];
            _position = null;
        }
        foreach (var (partition, pending) in _pending.ToList())
        {
            if (pending.Count == blockSize)
            {
                await WriteAsync(partition, cancellationToken);
            }
        }
    }

    HistoryBlockBuilder Pending(int partition)
    {
        if (!_pending.TryGetValue(partition, out var pending))
        {
            _pending[partition] = pending = new HistoryBlockBuilder();
        }
        return pending;
    }

    // Only whole blocks are written: what follows the last one waits for the block to fill.
    public Task TickAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Archives every whole block committed so far and returns how many events this call archived.</summary>
    public Task<long> CatchUpAsync(CancellationToken cancellationToken) => CatchUpAsync(null, cancellationToken);

    /// <summary>
    /// As <see cref="CatchUpAsync(CancellationToken)"/>, over the partitions <paramref name="followed"/> owns only (every
    /// partition of the store when null): a shard's own, without the copy of the control partition a shard other than 0
    /// holds (read past, as a share without it reads it, and never archived).
    /// </summary>
    public async Task<long> CatchUpAsync(FollowedPartitions? followed, CancellationToken cancellationToken)
    {
        if (followed is not null)
        {
            // The checkpoint loads the partitions of what the calling flow follows; this async method's flow ends with it.
            FollowedPartitions.Use(followed);
            _started = false;
        }
        if (!_started)
        {
            await StartAsync(cancellationToken);
        }
        var before = Archived;
        _catchingUp = true;
        try
        {
            await FoldCatchUp.RunAsync(this, new LogSource(dataSource, logger, DefaultBlockSize, followed), cancellationToken);
        }
        finally
        {
            _catchingUp = false;
        }
        return Archived - before;
    }

    /// <summary>
    /// Up to <paramref name="maxBlocks"/> blocks of each partition of <paramref name="after"/> after its position there,
    /// without the events at or before it; grouped by partition in partition order, in commit order within each. Fewer
    /// come back at the end of a partition's archive, or before a block that cannot be read, whose events (and the
    /// partition's after them) a reader then takes from the log; such a block is logged, as the reads that follow are slower.
    /// </summary>
    public static async Task<IReadOnlyList<HistoryBlock>> ReadAsync(
        NpgsqlDataSource dataSource, LogPositions after, int maxBlocks, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(after);
        await using var command = dataSource.CreateCommand("""
            select b.partition, b.end_commit, b.end_position, b.body
              from unnest($1::int[], $2::bigint[], $3::bigint[]) as a(partition, commit, position)
             cross join lateral (
                 select h.partition, h.end_commit, h.end_position, h.body from es.history_blocks h
                  where h.partition = a.partition and (h.end_commit, h.end_position) > (a.commit, a.position)
                  order by h.end_commit, h.end_position
                  limit $4) b
             order by b.partition, b.end_commit, b.end_position
            """);
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. after.Partitions] });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. after.Select(p => p.Value.Commit)] });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. after.Select(p => p.Value.GlobalPosition)] });
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
        var unreadable = new HashSet<int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var partition = reader.GetInt32(0);
            var end = new TailPosition(reader.GetInt64(1), reader.GetInt64(2));
            if (unreadable.Contains(partition))
            {
                continue;
            }
            var length = (int)reader.GetBytes(3, 0, null, 0, 0);
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            HistoryBlock? block;
            try
            {
                for (var read = 0; read < length;)
                {
                    read += (int)reader.GetBytes(3, read, buffer, read, length - read);
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
                    "The history archive's block ending at {End} of partition {Partition} cannot be decoded (damaged, or written by a newer version); its events and all after them in that partition are read from the log",
                    end, partition);
                unreadable.Add(partition);
                continue;
            }
            var from = after[partition];
            var first = blocks.Count == 0 || blocks[^1].Partition != partition;
            IReadOnlyList<LogEvent> events = first && block.Events[0].Position.CompareTo(from) <= 0
                ? [.. block.Events.Where(e => e.Position.CompareTo(from) > 0)]
                : block.Events;
            if (partition != 0)
            {
                // Blocks keep no partition per event: the block's row says it.
                events = [.. events.Select(e => e with { Event = e.Event with { Partition = partition } })];
            }
            blocks.Add(block with { Events = events, Partition = partition });
        }
        return blocks;
    }

    /// <summary>The position the archive has reached in each partition it has blocks of (its checkpoint); empty before its first block.</summary>
    public static async Task<LogPositions> ReachedAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var followed = await FollowedPartitions.ReadAsync(dataSource, cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return LogPositions.Of(await Checkpoints.LoadAsync(connection, CheckpointName, followed.Read, cancellationToken));
    }

    // The partition's full pending block with its checkpoint, in one transaction; kept pending (and written again) when it fails.
    async Task WriteAsync(int partition, CancellationToken cancellationToken)
    {
        var pending = _pending[partition];
        var end = pending.End;
        var body = pending.Finish();
        var count = pending.Count;
        await _checkpoint.SaveAsync(dataSource, LogPositions.At(partition, end), async (transaction, token) =>
        {
            await using var insert = new NpgsqlCommand(
                "insert into es.history_blocks (partition, end_commit, end_position, events, body) values ($1, $2, $3, $4, $5)",
                transaction.Connection, transaction);
            insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = partition });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = end.Commit });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = end.GlobalPosition });
            insert.Parameters.Add(new NpgsqlParameter<int> { TypedValue = count });
            insert.Parameters.Add(new NpgsqlParameter<ReadOnlyMemory<byte>> { TypedValue = body, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Bytea });
            await insert.ExecuteNonQueryAsync(token);
        }, cancellationToken);
        Interlocked.Add(ref _archived, count);
        pending.Dispose();
        _pending.Remove(partition);
    }
}
