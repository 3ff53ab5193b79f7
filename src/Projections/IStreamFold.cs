using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Tail;

namespace Streaming.Projections;

/// <summary>
/// One per-stream fold of the log, run by a <see cref="BufferedFold{TState}"/>: how a stream's state starts, changes with
/// each event, and is stored. <see cref="Apply"/> and <see cref="Observe"/> are pure (no I/O); what a fold decides to do
/// beyond its states it keeps to itself and makes durable in <see cref="CommitAsync"/>.
/// </summary>
public interface IStreamFold<TState> where TState : class
{
    /// <summary>The checkpoint's name; a new name replays the log from its start.</summary>
    string Name { get; }

    /// <summary>
    /// Whether the stream has a state in this fold. Events of other streams (control streams such as policies) go to
    /// <see cref="Observe"/> in their place in the log, and nothing is loaded or saved for them.
    /// </summary>
    bool HasState(string streamId);

    void Observe(LogEvent logEvent);

    /// <summary>
    /// Runs once before the first event, with the checkpoint the fold resumes after (a position per partition; control
    /// streams live in <see cref="LogPartitioner.ControlPartition"/>).
    /// </summary>
    Task ResumeAsync(LogPositions checkpoint, CancellationToken cancellationToken);

    TState Create(string streamId);

    TState Apply(TState state, LogEvent logEvent);

    /// <summary>
    /// Whether the change from <paramref name="before"/> to <paramref name="after"/> may wait for
    /// <see cref="FoldOptions.WaitingWriteInterval"/> (a stream changed otherwise since its last write is written with the next one anyway). A fold that says yes must ignore in <see cref="Apply"/> an
    /// event its state holds already: a restart folds again from a checkpoint kept before the waiting change.
    /// </summary>
    bool CanWait(TState before, TState after) => false;

    /// <summary>The state kept when an event of the stream could not be applied (it is skipped): flagged, or as it was.</summary>
    TState Poisoned(TState state);

    Task<IReadOnlyDictionary<string, TState>> LoadAsync(NpgsqlConnection connection, IReadOnlyList<string> streamIds, CancellationToken cancellationToken);

    /// <summary>
    /// Runs after each batch is folded, before its states are written: where effects the fold decided on become
    /// durable. They must be idempotent, since a crash before the next write folds the batch again, and a transient
    /// failure calls this again.
    /// </summary>
    Task CommitAsync(CancellationToken cancellationToken);

    Task SaveAsync(NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, TState>> changed, CancellationToken cancellationToken);

    /// <summary>
    /// Runs before the write's transaction opens: what can be computed from the states is computed here, so the
    /// transaction (which holds back every tail while open) only writes. The returned write runs inside it.
    /// </summary>
    Func<NpgsqlTransaction, CancellationToken, Task> PrepareSave(IReadOnlyList<KeyValuePair<string, TState>> changed) =>
        (transaction, cancellationToken) => SaveAsync(transaction, changed, cancellationToken);
}
