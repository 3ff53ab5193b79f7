using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Checkpointing;

namespace Streaming.Projections.Tail;

/// <summary>
/// A fold that hands the events it was given, about once per <c>writeInterval</c>, to <paramref name="handler"/> in one
/// transaction with its checkpoint: what the handler writes and the checkpoint commit, or roll back, together. The
/// simplest read model: a table written as the log grows
/// (<c>services.AddLogFold(sp =&gt; new TransactionalFold(dataSource, "my-feed", WriteAsync))</c>). A quiet log writes
/// nothing. Instances sharing the checkpoint (several processes) take turns, so no event is handled by two of them; a
/// handler that keeps state in memory must not assume it saw every event. A commit lost in a crash of the database is
/// redone from the checkpoint, so the transaction does not wait for its flush.
/// </summary>
public sealed class TransactionalFold(
    NpgsqlDataSource dataSource,
    string checkpointName,
    Func<IReadOnlyList<LogEvent>, NpgsqlTransaction, CancellationToken, Task> handler,
    bool readsArchive = false,
    TimeSpan? writeInterval = null) : ILogFold
{
    /// <summary>How long events wait at most, by default, before they are handed to the handler.</summary>
    public static readonly TimeSpan DefaultWriteInterval = TimeSpan.FromSeconds(1);

    // Events that force a write however recent the last one was: what bounds the memory held.
    const int MaxPendingEvents = 20_000;

    readonly FoldCheckpoint _checkpoint = new(checkpointName);
    readonly TimeSpan _writeInterval = writeInterval ?? DefaultWriteInterval;
    readonly List<LogEvent> _pending = [];
    LogPositions _position = LogPositions.Start(0);
    long _handled;

    public string Name => checkpointName;

    public bool ReadsArchive => readsArchive;

    public LogPositions Position => _position;

    /// <summary>Events handled and committed by this instance.</summary>
    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>Transactions this instance committed.</summary>
    public long Commits => _checkpoint.Commits;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        _pending.Clear();
        _position = await _checkpoint.LoadAsync(dataSource, cancellationToken);
    }

    public async Task ApplyAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        if (!_position.Covers(batch.End))
        {
            _pending.AddRange(batch.After(_position));
            _position = _position.Max(batch.End);
        }
        if (_pending.Count >= MaxPendingEvents || _pending.Count > 0 && _checkpoint.SinceSave >= _writeInterval)
        {
            await WriteAsync(cancellationToken);
        }
    }

    public async Task TickAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count > 0 && _checkpoint.SinceSave >= _writeInterval)
        {
            await WriteAsync(cancellationToken);
        }
    }

    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count > 0)
        {
            await WriteAsync(cancellationToken);
        }
    }

    async Task WriteAsync(CancellationToken cancellationToken)
    {
        var end = _position;
        var handled = 0;
        var at = await _checkpoint.TakeTurnAsync(dataSource, async (claimed, transaction, token) =>
        {
            // Another instance (or an earlier commit of ours whose acknowledgement was lost) may have got further.
            var events = claimed.IsStart ? _pending : _pending.Where(e => !claimed.Covers(e.Event.Partition, e.Position)).ToList();
            if (events.Count == 0)
            {
                return null;
            }
            await handler(events, transaction, token);
            handled = events.Count;
            return end.Max(claimed);
        }, cancellationToken);
        _pending.Clear();
        Interlocked.Add(ref _handled, handled);
        _position = _position.Max(at);
    }
}
