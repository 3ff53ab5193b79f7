using Npgsql;
using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>
/// A fold that handles each batch in one transaction with its checkpoint: what <paramref name="handler"/> writes and
/// the checkpoint commit, or roll back, together. The simplest read model: a table written as the log grows
/// (<c>services.AddLogFold(sp =&gt; new TransactionalFold(dataSource, "my-feed", WriteAsync))</c>). Instances sharing the
/// checkpoint (several processes) take turns batch by batch, so no event is handled by two of them; a handler that keeps
/// state in memory must not assume it saw every batch.
/// </summary>
public sealed class TransactionalFold(
    NpgsqlDataSource dataSource,
    string checkpointName,
    Func<IReadOnlyList<LogEvent>, NpgsqlTransaction, CancellationToken, Task> handler,
    bool readsArchive = false) : ILogFold
{
    TailPosition _position;
    long _handled;

    public string Name => checkpointName;

    public bool ReadsArchive => readsArchive;

    public TailPosition Position => _position;

    /// <summary>Events handled and committed by this instance.</summary>
    public long Handled => Interlocked.Read(ref _handled);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(checkpointName);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        _position = await Checkpoints.LoadAsync(connection, checkpointName, cancellationToken) ?? TailPosition.Start;
    }

    public async Task ApplyAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        if (batch.End.CompareTo(_position) <= 0)
        {
            return;
        }
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Waits while another instance handles a batch, then sees where it got to: instances sharing the checkpoint take
        // turns, and one whose earlier commit went unacknowledged finds it done.
        var claimed = await Checkpoints.ClaimAsync(transaction, checkpointName, cancellationToken);
        var from = claimed is { } moved && moved.CompareTo(_position) > 0 ? moved : _position;
        var events = batch.After(from);
        if (events.Count > 0)
        {
            await handler(events, transaction, cancellationToken);
            await Checkpoints.SaveAsync(transaction, checkpointName, claimed, batch.End, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            Interlocked.Add(ref _handled, events.Count);
        }
        _position = from.CompareTo(batch.End) > 0 ? from : batch.End;
    }

    public Task IdleAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
