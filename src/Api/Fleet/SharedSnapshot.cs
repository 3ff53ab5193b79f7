namespace Streaming.Api.Fleet;

/// <summary>
/// A value every reader shares for a short while: computed at most once per <paramref name="maxAge"/>, and readers that
/// ask while it is being computed wait for that computation instead of starting their own.
/// </summary>
public sealed class SharedSnapshot<T>(Func<CancellationToken, Task<T>> compute, TimeSpan maxAge, TimeProvider clock) where T : class
{
    readonly Lock _lock = new();
    Task<T>? _current;
    DateTimeOffset _computedAt;

    public Task<T> GetAsync()
    {
        lock (_lock)
        {
            var now = clock.GetUtcNow();
            if (_current is null || _current.IsFaulted || _current.IsCanceled || (_current.IsCompleted && now - _computedAt > maxAge))
            {
                _computedAt = now;
                _current = compute(CancellationToken.None);
            }
            return _current;
        }
    }
}
