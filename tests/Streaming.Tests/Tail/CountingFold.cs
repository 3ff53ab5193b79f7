using Npgsql;
using Streaming.EventStore;
using Streaming.Projections;
using Streaming.Projections.Tail;

namespace Streaming.Tests.Tail;

/// <summary>
/// Counts each stream's events into the table <c>counted</c>; its effect is each stream's count as of its last commit.
/// Given <paramref name="heldSave"/>, every save waits for it inside its transaction. Given <paramref name="canWait"/>,
/// a change it says yes to may wait (<see cref="IStreamFold{TState}.CanWait"/>), and an event at or below a stream's
/// count is taken for one counted already (the test streams' versions are their counts).
/// </summary>
internal sealed class CountingFold(string name, Task? heldSave = null, Func<CountingFold.Count, CountingFold.Count, bool>? canWait = null)
    : IStreamFold<CountingFold.Count>
{
    public sealed record Count(long Events);

    /// <summary>Creates the table <c>counted</c> the fold writes, unless it exists.</summary>
    public static async Task CreateTableAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            "create table if not exists counted (fold text not null, stream_id text not null, events bigint not null, primary key (fold, stream_id))");
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The events of <paramref name="streamId"/> the fold <paramref name="fold"/> has written it counted (0 before any).</summary>
    public static async Task<long> CountedAsync(NpgsqlDataSource dataSource, string fold, string streamId)
    {
        await using var command = dataSource.CreateCommand("select coalesce(max(events), 0) from counted where fold = $1 and stream_id = $2");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = fold });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = streamId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    readonly TaskCompletionSource _saveStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    readonly Dictionary<string, long> _folded = new(StringComparer.Ordinal);
    readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _committed = new(StringComparer.Ordinal);

    readonly System.Collections.Concurrent.ConcurrentQueue<int> _prepared = new();

    public string Name => name;

    /// <summary>How many states each write's rows were computed for (<see cref="PrepareSave"/>), in the order computed.</summary>
    public IReadOnlyList<int> Prepared => [.. _prepared];

    /// <summary>Completes when a save has begun.</summary>
    public Task SaveStarted => _saveStarted.Task;

    /// <summary>The stream's events folded as of the last commit of the fold's effects.</summary>
    public long Committed(string streamId) => _committed.GetValueOrDefault(streamId);

    public bool HasState(string streamId) => true;

    public void Observe(LogEvent logEvent)
    {
    }

    public Task ResumeAsync(LogPositions checkpoint, CancellationToken cancellationToken) => Task.CompletedTask;

    public Count Create(string streamId) => new(0);

    /// <summary>While set, every save fails before it writes: a process that dies holding what it folded.</summary>
    public bool FailSaves { get; set; }

    public bool CanWait(Count before, Count after) => canWait?.Invoke(before, after) ?? false;

    public Count Apply(Count state, LogEvent logEvent)
    {
        if (canWait is not null && logEvent.Version <= state.Events)
        {
            return state;
        }
        _folded[logEvent.StreamId] = state.Events + 1;
        return new(state.Events + 1);
    }

    public Count Poisoned(Count state) => state;

    public async Task<IReadOnlyDictionary<string, Count>> LoadAsync(NpgsqlConnection connection, IReadOnlyList<string> streamIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select stream_id, events from counted where fold = $1 and stream_id = any($2)", connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. streamIds] });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var loaded = new Dictionary<string, Count>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            loaded[reader.GetString(0)] = new Count(reader.GetInt64(1));
        }
        return loaded;
    }

    public Task CommitAsync(CancellationToken cancellationToken)
    {
        foreach (var (streamId, events) in _folded)
        {
            _committed[streamId] = events;
        }
        return Task.CompletedTask;
    }

    public Func<NpgsqlTransaction, CancellationToken, Task> PrepareSave(IReadOnlyList<KeyValuePair<string, Count>> changed)
    {
        _prepared.Enqueue(changed.Count);
        return (transaction, cancellationToken) => SaveAsync(transaction, changed, cancellationToken);
    }

    public async Task SaveAsync(NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, Count>> changed, CancellationToken cancellationToken)
    {
        _saveStarted.TrySetResult();
        if (FailSaves)
        {
            throw new InvalidOperationException("the process died before this save");
        }
        if (heldSave is not null)
        {
            await heldSave.WaitAsync(cancellationToken);
        }
        await using var command = new NpgsqlCommand(
            """
            insert into counted (fold, stream_id, events) select $1, * from unnest($2, $3)
            on conflict (fold, stream_id) do update set events = excluded.events
            """, transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = changed.Select(c => c.Key).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = changed.Select(c => c.Value.Events).ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
