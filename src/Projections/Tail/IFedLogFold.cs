namespace Streaming.Projections.Tail;

/// <summary>
/// A fold that is also handed work from inside its process, not read from the log (a relay handed decisions the moment
/// they commit), taken in the same loop as its batches, so the fold's state has one owner. It is taken only while the
/// fold is attached to the reader; the log remains the fold's record of what happened.
/// </summary>
public interface IFedLogFold : ILogFold
{
    /// <summary>Completes with true when there is work to take, false when there will be none.</summary>
    ValueTask<bool> WaitToTakeAsync(CancellationToken cancellationToken);

    /// <summary>Takes what waits and handles it; called again with the same work after a transient failure.</summary>
    Task TakeAsync(CancellationToken cancellationToken);
}
