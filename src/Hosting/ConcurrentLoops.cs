namespace Streaming.Hosting;

/// <summary>Loops a service runs side by side, such as the Promoter's decisions and its relay.</summary>
public static class ConcurrentLoops
{
    /// <summary>
    /// Waits for every loop, but fails as soon as one fails: the host then logs it and stops, rather than keeping a
    /// process alive with half of its work silently dead.
    /// </summary>
    public static async Task WhenAllOrFirstFailureAsync(IEnumerable<Task> loops)
    {
        var running = loops.ToList();
        while (running.Count > 0)
        {
            var finished = await Task.WhenAny(running);
            await finished;
            running.Remove(finished);
        }
    }
}
