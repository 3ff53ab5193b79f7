using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>
/// One fold of the log that a process runs: the <see cref="LogTail"/> reads and decodes each event once and hands the
/// same batches (every partition the process follows, each in its commit order) to every fold. A fold keeps its own checkpoint, so each resumes where it stopped.
/// Its methods are called one at a time. After a transient failure (the database or broker away) the tail waits and
/// calls the same method again with the same batch, so <see cref="ApplyAsync"/> must skip what it already folded
/// (everything up to <see cref="Position"/>) and redo only the writes that did not complete.
/// </summary>
public interface ILogFold
{
    /// <summary>The fold's name in logs and health reports.</summary>
    string Name { get; }

    /// <summary>
    /// Whether the fold may be handed events read from the history archive (signals without correlation ids, other
    /// events without metadata or recording time) while it catches up from far behind.
    /// </summary>
    bool ReadsArchive { get; }

    /// <summary>
    /// Where the fold has folded up to in each partition it follows; it is handed only events after it. It may move back
    /// (a fold that starts again from another checkpoint): the tail then hands it the log again from there.
    /// </summary>
    LogPositions Position { get; }

    /// <summary>Loads the fold's checkpoint and state; <see cref="Position"/> is then where it resumes.</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Folds the batch's events after <see cref="Position"/> (per partition), and writes what is due.</summary>
    Task ApplyAsync(LogBatch batch, CancellationToken cancellationToken);

    /// <summary>
    /// Time passed with nothing new to fold (the tail calls it about every <see cref="TailOptions.TickInterval"/> while
    /// the fold has nothing queued): writes what the fold's timers say is due, and nothing else. A quiet log is no reason
    /// to write.
    /// </summary>
    Task TickAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Writes everything the fold holds now: when the process stops, so the next start redoes as little as possible, and
    /// at the end of a catch-up.
    /// </summary>
    Task FlushAsync(CancellationToken cancellationToken);
}
