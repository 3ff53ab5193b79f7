using System.Diagnostics;
using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Tail;

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
    IReadOnlyList<int> _partitions = [0];
    // The partition read for its control streams only: its position is kept here but saved by its owner alone.
    int? _controlOnly;
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

    /// <summary>The partitions the fold follows, as of <see cref="LoadAsync"/> (partition 0 alone before it).</summary>
    public IReadOnlyList<int> Partitions => _partitions;

    /// <summary>The partition the fold reads for its control streams only, as of <see cref="LoadAsync"/>: nothing is written for it.</summary>
    public int? ControlOnly => _controlOnly;

    /// <summary>Whether a position was ever saved for any of the fold's partitions.</summary>
    public bool HasSaved => _saved.Count > 0;

    /// <summary>Where a fold starts that has folded nothing since its last save: each partition's saved position, its start where none was saved.</summary>
    public LogPositions Resumed => LogPositions.Of(_partitions.Select(p => KeyValuePair.Create(p, _saved.TryGetValue(p, out var at) ? at : TailPosition.Start)));

    /// <summary>Time since the last save (or load).</summary>
    public TimeSpan SinceSave => _sinceSave.Elapsed;

    /// <summary>A checkpoint that only moves is saved no more often than this.</summary>
    public TimeSpan QuietInterval { get; init; } = DefaultQuietInterval;

    /// <summary>Transactions this checkpoint committed: the fold's bookkeeping commits.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Whether a checkpoint that moved to <paramref name="positions"/>, with nothing else to write, is due to be saved.</summary>
    public bool QuietSaveDue(LogPositions positions) => positions != Resumed && _sinceSave.Elapsed >= QuietInterval;

    /// <summary>
    /// Reads the saved position of every partition the process follows (<see cref="FollowedPartitions"/>):
    /// <see cref="Resumed"/>, returned, is then where the fold starts in each. A partition followed for its control
    /// streams only starts where its owner's checkpoint of this fold is, and is never saved by this instance.
    /// </summary>
    public async Task<LogPositions> LoadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var followed = await FollowedPartitions.ReadAsync(dataSource, cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        _saved = await Checkpoints.LoadAsync(connection, Name, followed.Read, cancellationToken);
        _partitions = followed.Read;
        _controlOnly = followed.ControlOnly;
        _unconfirmed = null;
        _sinceSave.Restart();
        return Resumed;
    }

    /// <summary>
    /// Throws <see cref="CheckpointConflictException"/> naming the partitions of <paramref name="partitions"/> whose
    /// checkpoint another instance moved past <paramref name="folded"/>, where this fold has folded to: rows read on
    /// <paramref name="connection"/> just before hold that instance's work past it, which folding the log from
    /// <paramref name="folded"/> would count again. A save of this fold's own never passes what it folded.
    /// </summary>
    public async Task RefuseIfPassedAsync(NpgsqlConnection connection, LogPositions folded, IEnumerable<int> partitions, CancellationToken cancellationToken)
    {
        var saved = await Checkpoints.LoadAsync(connection, Name, partitions.Where(p => p != _controlOnly).Distinct(), cancellationToken);
        var passed = saved.Where(p => !folded.Covers(p.Key, p.Value)).Select(p => p.Key).Order().ToList();
        if (passed.Count > 0)
        {
            var first = passed[0];
            throw new CheckpointConflictException(Name, folded.Contains(first) ? folded[first] : null, saved[first], first, passed);
        }
    }

    /// <summary>
    /// Moves the checkpoint of every partition of <paramref name="next"/>, each by compare-and-set from where it is known
    /// to be, and runs <paramref name="write"/> in the same transaction. Throws <see cref="CheckpointConflictException"/>
    /// naming the partition another instance moved (the fold is fenced there); when the same move failed before, not by
    /// such a conflict, and finds the checkpoint at <paramref name="next"/>, that attempt had committed, and nothing is written again.
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
            bool advanced;
            try
            {
                advanced = await Checkpoints.AdvanceAsync(transaction, Name, _saved, Saved(next), retrying, cancellationToken);
            }
            catch (CheckpointConflictException)
            {
                // This attempt is known not to have committed: doing the move again (a write beside the fold is) must not
                // take the other instance's checkpoint at the same place for a commit of its own whose acknowledgement was lost.
                _unconfirmed = null;
                throw;
            }
            if (advanced)
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
    /// <paramref name="work"/> the positions the checkpoint is at (the start of a partition none was saved for), and
    /// commits the work with the checkpoint moved to where the work says it got to (no commit when it says null: nothing
    /// to write). Returns where the checkpoint is.
    /// </summary>
    public async Task<LogPositions> TakeTurnAsync(
        NpgsqlDataSource dataSource,
        Func<LogPositions, NpgsqlTransaction, CancellationToken, Task<LogPositions?>> work,
        CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await CommitModeAsync(transaction, cancellationToken);
        // Waits while another instance takes its turn, then sees where it got to; an earlier commit of ours that went
        // unacknowledged is found done the same way.
        var claimed = await Checkpoints.ClaimAsync(transaction, Name, _partitions.Where(p => p != _controlOnly), cancellationToken);
        _saved = _controlOnly is { } control && _saved.TryGetValue(control, out var read) ? new Dictionary<int, TailPosition>(claimed) { [control] = read } : claimed;
        if (await work(Resumed, transaction, cancellationToken) is not { } next)
        {
            return Resumed;
        }
        await Checkpoints.SaveAsync(transaction, Name, claimed, Saved(next), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Counted();
        Moved(next);
        return Resumed;
    }

    // What this instance saves of a move: every partition but the one it reads for its control streams only.
    LogPositions Saved(LogPositions next) =>
        _controlOnly is { } control && next.Contains(control) ? LogPositions.Of(next.Where(p => p.Key != control)) : next;

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
        if (next.Partitions.Except(_partitions).Any())
        {
            _partitions = [.. _partitions.Union(next.Partitions).Order()];
        }
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
