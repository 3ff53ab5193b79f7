using Npgsql;
using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>
/// A fold that handles each batch in one transaction with its checkpoint: what <paramref name="handler"/> writes and
/// the checkpoint commit, or roll back, together. The simplest read model: a table written as the log grows
/// (<c>services.AddLogFold(sp =&gt; new TransactionalFold(dataSource, "my-feed", WriteAsync))</c>).
/// </summary>
public sealed class TransactionalFold(
    NpgsqlDataSource dataSource,
    string checkpointName,
    Func<IReadOnlyList<LogEvent>, NpgsqlTransaction, CancellationToken, Task> handler,
    bool readsArchive = false) : ILogFold
{
    TailPosition? _saved;
    TailPosition _position;
    TailPosition? _unconfirmed;
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
        _saved = await Checkpoints.LoadAsync(connection, checkpointName, cancellationToken);
        _position = _saved ?? TailPosition.Start;
    }

    public async Task ApplyAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        var events = batch.After(_position);
        if (events.Count == 0)
        {
            return;
        }
        var retrying = _unconfirmed == batch.End;
        _unconfirmed = batch.End;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        await using (var transaction = await connection.BeginTransactionAsync(cancellationToken))
        {
            if (await Checkpoints.AdvanceAsync(transaction, checkpointName, _saved, batch.End, retrying, cancellationToken))
            {
                await handler(events, transaction, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
        }
        _saved = _position = batch.End;
        _unconfirmed = null;
        Interlocked.Add(ref _handled, events.Count);
    }

    public Task IdleAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
