namespace Streaming.Api.Fleet;

/// <summary>
/// A value every reader shares: computed once, then recomputed in the background when a reader finds it older than
/// <paramref name="maxAge"/>, while readers keep getting the last one at once (only the very first reader waits). So
/// any number of open pages cost one computation per <paramref name="maxAge"/> at most, and none waits for it.
/// </summary>
public sealed class SharedSnapshot<T>(Func<CancellationToken, Task<T>> compute, TimeSpan maxAge, TimeProvider clock) where T : class
{
    readonly Lock _lock = new();
    T? _value;
    DateTimeOffset _computedAt;
    Task<T>? _computing;

    public async Task<T> GetAsync()
    {
        Task<T>? first = null;
        lock (_lock)
        {
            if (_computing is null && (_value is null || clock.GetUtcNow() - _computedAt > maxAge))
            {
                _computing = ComputeAsync();
            }
            if (_value is null)
            {
                first = _computing;
            }
        }
        return first is null ? _value! : await first;
    }

    async Task<T> ComputeAsync()
    {
        await Task.Yield();
        try
        {
            var value = await compute(CancellationToken.None);
            lock (_lock)
            {
                _value = value;
                _computedAt = clock.GetUtcNow();
            }
            return value;
        }
        finally
        {
            lock (_lock)
            {
                _computing = null;
            }
        }
    }
}
