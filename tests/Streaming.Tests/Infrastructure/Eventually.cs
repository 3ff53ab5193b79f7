namespace Streaming.Tests.Infrastructure;

/// <summary>Waits for a condition with a deadline: the only way tests wait.</summary>
public static class Eventually
{
    /// <param name="explain">On a timeout, what else the message says: where things stand that could hold it back.</param>
    public static async Task<T> Get<T>(Func<Task<T>> probe, Func<T, bool> done, TimeSpan timeout, string what, Func<Task<string>>? explain = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        var pause = TimeSpan.FromMilliseconds(10);
        while (true)
        {
            var value = await probe();
            if (done(value))
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                var message = $"gave up after {timeout.TotalSeconds:0.#} s waiting for {what}; last value: {value}";
                throw new TimeoutException(explain is null ? message : $"{message}; {await explain()}");
            }
            await Task.Delay(pause);
            pause = TimeSpan.FromMilliseconds(Math.Min(200, pause.TotalMilliseconds * 2));
        }
    }

    public static Task True(Func<Task<bool>> probe, TimeSpan timeout, string what, Func<Task<string>>? explain = null) =>
        Get(probe, v => v, timeout, what, explain);
}
