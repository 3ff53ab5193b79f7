namespace Streaming.Tests.Surface;

/// <summary>
/// Data seeded into the shared surface system once, however many tests of the collection ask for it first; a new
/// system (a new collection run) is seeded again.
/// </summary>
public sealed class SurfaceSeed(Func<SurfaceSystem, TimeSpan, Task> seed)
{
    readonly SemaphoreSlim _once = new(1, 1);
    SurfaceSystem? _seeded;

    public async Task EnsureAsync(SurfaceSystem system, TimeSpan timeout)
    {
        await _once.WaitAsync();
        try
        {
            if (!ReferenceEquals(_seeded, system))
            {
                await seed(system, timeout);
                _seeded = system;
            }
        }
        finally
        {
            _once.Release();
        }
    }
}
