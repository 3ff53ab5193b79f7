using System.Diagnostics;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Projections.Checkpointing;

/// <summary>
/// One fold's checkpoint in <c>es.checkpoints</c>, a position per log partition it reads, and the one protocol every fold
/// follows to move it: loaded at start,
/// moved by compare-and-set as the first write of the transaction that writes what the fold made of the events before
/// it (so state and checkpoint commit together), and never moved past work that did not commit. A move whose commit
/// went unacknowledged is tried again; finding the checkpoint already there, the earlier attempt counts as done (the
/// "lost acknowledgement" rule). It also keeps the fold's save timer and counts its commits.
/// </summary>
public sealed class FoldCheckpoint
{
    /// <summary>How often a checkpoint that only moved (nothing else to write) is saved.</summary>
    public static readonly TimeSpan DefaultQuietInterval = TimeSpan.FromSeconds(5);

    readonly Stopwatch _sinceSave = Stopwatch.StartNew();
    readonly bool _synchronous;
    // Per log partition: where the checkpoint is known to be (a partition missing: none saved yet).
    IReadOnlyDictionary<int, TailPosition> _saved = new Dictionary<int, TailPosition>();
    LogPositions? _unconfirmed;
    long _commits;

    /// <param name="name">The checkpoint's name (<c>es.checkpoints.name</c>).</param>
    /// <param name="synchronous">
    /// Whether a save waits for the commit to be flushed (<c>synchronous_commit</c>). Off for folds that redo from their
    /// checkpoint whatever a lost commit held; on where the checkpoint records what was published.
    /// </param>
    public FoldCheckpoint(string name, bool synchronous = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
        _synchronous = synchronous;
    }

    public string Name { get; }

    /// <summary>Where the checkpoint of partition 0 (the whole log while it has one partition) is known to be: null when none was ever saved.</summary>
    public TailPosition? Saved => _saved.TryGetValue(0, out var at) ? at : null;

    /// <summary>Where a fold starts that has folded nothing since <see cref="Saved"/>.</summary>
    public TailPosition Resumed => Saved ?? TailPosition.Start;

    /// <summary>Where the checkpoint of each partition of <paramref name="partitions"/> is known to be (the start where none was saved).</summary>
    public LogPositions ResumedAt(IEnumerable<int> partitions) =>
        LogPositions.Of(partitions.Select(p => KeyValuePair.Create(p, _saved.TryGetValue(p, out var at) ? at : TailPosition.Start)));

    /// <summary>Time since the last save (or load).</summary>
    public TimeSpan SinceSave => _sinceSave.Elapsed;

    /// <summary>A checkpoint that only moves is saved no more often than this.</summary>
    public TimeSpan QuietInterval { get; init; } = DefaultQuietInterval;

    /// <summary>Transactions this checkpoint committed: the fold's bookkeeping commits.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Whether a checkpoint that moved to <paramref name="position"/>, with nothing else to write, is due to be saved.</summary>
    public bool QuietSaveDue(TailPosition position) => position != Resumed && _sinceSave.Elapsed >= QuietInterval;

    /// <summary>Reads the saved checkpoint; <see cref="Resumed"/> is then where the fold starts.</summary>
    public async Task<TailPosition> LoadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        (await LoadAsync(dataSource, [0], cancellationToken))[0];

    /// <summary>Reads the saved checkpoint of each partition of <paramref name="partitions"/>: where the fold starts in each.</summary>
    public async Task<LogPositions> LoadAsync(NpgsqlDataSource dataSource, IReadOnlyCollection<int> partitions, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        _saved = await Checkpoints.LoadAsync(connection, Name, partitions, cancellationToken);
        _unconfirmed = null;
        _sinceSave.Restart();
        return ResumedAt(partitions);
    }

    /// <summary>
    /// Moves the checkpoint from <see cref="Saved"/> to <paramref name="next"/> and runs <paramref name="write"/> in the
    /// same transaction. Throws <see cref="CheckpointConflictException"/> when another instance moved it (the fold is
    /// fenced); when the same move failed before and finds the checkpoint at <paramref name="next"/>, that attempt had
    /// committed, and nothing is written again.
    /// </summary>
    public Task SaveAsync(
        NpgsqlDataSource dataSource, TailPosition next, Func<NpgsqlTransaction, CancellationToken, Task>? write, CancellationToken cancellationToken) =>
        SaveAsync(dataSource, LogPositions.Start(1).With(0, next), write, cancellationToken);

    /// <summary>
    /// As <see cref="SaveAsync(NpgsqlDataSource, TailPosition, Func{NpgsqlTransaction, CancellationToken, Task}?, CancellationToken)"/>
    /// for every partition of <paramref name="next"/> in the one transaction, each moved by compare-and-set from where it
    /// is known to be; a <see cref="CheckpointConflictException"/> names the partition another instance moved.
    /// </summary>
    public async Task SaveAsync(
        NpgsqlDataSource dataSource, LogPositions next, Func<NpgsqlTransaction, CancellationToken, Task>? write, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(next);
        var retrying = _unconfirmed == next;
        _unconfirmed = next;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            await CommitModeAsync(transaction, cancellationToken);
            if (await Checkpoints.AdvanceAsync(transaction, Name, _saved, next, retrying, cancellationToken))
            {
                if (write is not null)
                {
                    await write(transaction, cancellationToken);
                }
                await transaction.CommitAsync(cancellationToken);
                Counted();
            }
        }
        Moved(next);
    }

    /// <summary>
    /// For instances that take turns on one checkpoint: waits for the checkpoint's lock in a new transaction, hands
    /// <paramref name="work"/> the position the checkpoint is at, and commits the work with the checkpoint moved to
    /// where the work says it got to (no commit when it says null: nothing to write). Returns where the checkpoint is.
    /// </summary>
    public async Task<TailPosition?> TakeTurnAsync(
        NpgsqlDataSource dataSource,
        Func<TailPosition?, NpgsqlTransaction, CancellationToken, Task<TailPosition?>> work,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await CommitModeAsync(transaction, cancellationToken);
        // Waits while another instance takes its turn, then sees where it got to; an earlier commit of ours that went
        // unacknowledged is found done the same way.
        var claimed = await Checkpoints.ClaimAsync(transaction, Name, cancellationToken);
        if (await work(claimed, transaction, cancellationToken) is not { } next)
        {
            _saved = claimed is { } at ? new Dictionary<int, TailPosition> { [0] = at } : new Dictionary<int, TailPosition>();
            return claimed;
        }
        await Checkpoints.SaveAsync(transaction, Name, claimed, next, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Counted();
        Moved(LogPositions.Start(1).With(0, next));
        return next;
    }

    async Task CommitModeAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        if (_synchronous)
        {
            return;
        }
        // Redone from the checkpoint if the commit is lost in a crash of the database, so nothing waits for its flush.
        await using var command = new NpgsqlCommand("set local synchronous_commit = off", transaction.Connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    void Counted()
    {
        Interlocked.Increment(ref _commits);
        FoldMetrics.Commit(Name);
    }

    void Moved(LogPositions next)
    {
        var saved = new Dictionary<int, TailPosition>(_saved);
        foreach (var (partition, position) in next)
        {
            saved[partition] = position;
        }
        _saved = saved;
        _unconfirmed = null;
        _sinceSave.Restart();
    }
}
