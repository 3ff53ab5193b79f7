using Npgsql;
using Streaming.EventStore;

namespace Streaming.Projections;

/// <summary>One per-stream fold of the log: how a stream's state starts, changes with each event, and is stored.</summary>
public interface IStreamFold<TState> where TState : class
{
    /// <summary>The checkpoint's name; a new name replays the log from its start.</summary>
    string Name { get; }

    /// <summary>
    /// Whether the stream has a state in this fold. Events of other streams (control streams such as policies) go to
    /// <see cref="Observe"/> in their place in the log, and nothing is loaded or saved for them.
    /// </summary>
    bool HasState(string streamId);

    void Observe(RecordedEvent recorded);

    /// <summary>Runs once before the first event, with the checkpoint the fold resumes after.</summary>
    Task ResumeAsync(TailPosition checkpoint, CancellationToken cancellationToken);

    TState Create(string streamId);

    TState Apply(TState state, RecordedEvent recorded);

    Task<IReadOnlyDictionary<string, TState>> LoadAsync(NpgsqlConnection connection, IReadOnlyList<string> streamIds, CancellationToken cancellationToken);

    /// <summary>
    /// Runs after each batch is folded, before its states are written: where side effects the fold queued become
    /// durable. They must be idempotent, since a crash before the next write folds the batch again.
    /// </summary>
    Task AfterBatchAsync(CancellationToken cancellationToken);

    Task SaveAsync(NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, TState>> changed, CancellationToken cancellationToken);
}
