using Npgsql;

namespace Streaming.Tests.Ownership;

/// <summary>
/// Samples one fold's checkpoint in <c>es.checkpoints</c> every 25 ms, and keeps, per log partition, the time of each
/// save that moved it (<c>updated_at</c>, the store's clock): the fold's progress there, whoever of its instances saved it.
/// </summary>
public sealed class CheckpointProgress : IAsyncDisposable
{
    static readonly TimeSpan Every = TimeSpan.FromMilliseconds(25);

    readonly NpgsqlDataSource _dataSource;
    readonly string _name;
    readonly Lock _lock = new();
    readonly Dictionary<int, (long Commit, long Position)> _last = [];
    readonly Dictionary<int, List<DateTime>> _moves = [];
    readonly CancellationTokenSource _stop = new();
    readonly Task _sampling;

    public CheckpointProgress(NpgsqlDataSource dataSource, string name)
    {
        _dataSource = dataSource;
        _name = name;
        _sampling = Task.Run(() => SampleAsync(_stop.Token));
    }

    /// <summary>Now by the store's clock, the one the moves are timed by.</summary>
    public async Task<DateTime> NowAsync()
    {
        await using var command = _dataSource.CreateCommand("select clock_timestamp()");
        return ((DateTime)(await command.ExecuteScalarAsync())!).ToUniversalTime();
    }

    /// <summary>How many saves moved <paramref name="partition"/> after <paramref name="after"/>.</summary>
    public int MovesAfter(int partition, DateTime after)
    {
        lock (_lock)
        {
            return _moves.TryGetValue(partition, out var moves) ? moves.Count(m => m > after) : 0;
        }
    }

    /// <summary>
    /// The longest time <paramref name="partition"/> went without a move between <paramref name="from"/> and
    /// <paramref name="to"/>, counted from its last move before <paramref name="from"/>.
    /// </summary>
    public TimeSpan LongestGap(int partition, DateTime from, DateTime to)
    {
        lock (_lock)
        {
            var moves = _moves.TryGetValue(partition, out var all) ? all : [];
            var start = moves.LastOrDefault(m => m <= from, from);
            var longest = TimeSpan.Zero;
            var previous = start;
            foreach (var move in moves.Where(m => m > from && m <= to))
            {
                longest = Max(longest, move - previous);
                previous = move;
            }
            return Max(longest, to - previous);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling.ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    async Task SampleAsync(CancellationToken stop)
    {
        using var pacing = new PeriodicTimer(Every);
        while (!stop.IsCancellationRequested)
        {
            await using (var command = _dataSource.CreateCommand("select partition, commit, position, updated_at from es.checkpoints where name = $1"))
            {
                command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _name });
                await using var reader = await command.ExecuteReaderAsync(stop);
                while (await reader.ReadAsync(stop))
                {
                    Moved(reader.GetInt32(0), (reader.GetInt64(1), reader.GetInt64(2)), reader.GetDateTime(3).ToUniversalTime());
                }
            }
            await pacing.WaitForNextTickAsync(stop);
        }
    }

    void Moved(int partition, (long, long) at, DateTime savedAt)
    {
        lock (_lock)
        {
            if (_last.TryGetValue(partition, out var last) && last == at)
            {
                return;
            }
            _last[partition] = at;
            if (!_moves.TryGetValue(partition, out var moves))
            {
                _moves[partition] = moves = [];
            }
            moves.Add(savedAt);
        }
    }
}
