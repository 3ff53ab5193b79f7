using System.Diagnostics;
using Npgsql;
using Streaming.EventStore;

namespace Streaming.Projections.Checkpointing;

/// <summary>
/// One fold's checkpoint in <c>es.checkpoints</c>, and the one protocol every fold follows to move it: loaded at start,
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
    TailPosition? _saved;
    TailPosition? _unconfirmed;
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

    /// <summary>Where the checkpoint is known to be: null when none was ever saved.</summary>
    public TailPosition? Saved => _saved;

    /// <summary>Where a fold starts that has folded nothing since <see cref="Saved"/>.</summary>
    public TailPosition Resumed => _saved ?? TailPosition.Start;

    /// <summary>Time since the last save (or load).</summary>
    public TimeSpan SinceSave => _sinceSave.Elapsed;

    /// <summary>A checkpoint that only moves is saved no more often than this.</summary>
    public TimeSpan QuietInterval { get; init; } = DefaultQuietInterval;

    /// <summary>Transactions this checkpoint committed: the fold's bookkeeping commits.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Whether a checkpoint that moved to <paramref name="position"/>, with nothing else to write, is due to be saved.</summary>
    public bool QuietSaveDue(TailPosition position) => position != Resumed && _sinceSave.Elapsed >= QuietInterval;

    /// <summary>Reads the saved checkpoint; <see cref="Resumed"/> is then where the fold starts.</summary>
    public async Task<TailPosition> LoadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        _saved = await Checkpoints.LoadAsync(connection, Name, cancellationToken);
        _unconfirmed = null;
        _sinceSave.Restart();
        return Resumed;
    }

    /// <summary>
    /// Moves the checkpoint from <see cref="Saved"/> to <paramref name="next"/> and runs <paramref name="write"/> in the
    /// same transaction. Throws <see cref="CheckpointConflictException"/> when another instance moved it (the fold is
    /// fenced); when the same move failed before and finds the checkpoint at <paramref name="next"/>, that attempt had
    /// committed, and nothing is written again.
    /// </summary>
    public async Task SaveAsync(
        NpgsqlDataSource dataSource, TailPosition next, Func<NpgsqlTransaction, CancellationToken, Task>? write, CancellationToken cancellationToken)
    {
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
            _saved = claimed;
            return claimed;
        }
        await Checkpoints.SaveAsync(transaction, Name, claimed, next, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Counted();
        Moved(next);
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

    void Moved(TailPosition next)
    {
        _saved = next;
        _unconfirmed = null;
        _sinceSave.Restart();
    }
}
