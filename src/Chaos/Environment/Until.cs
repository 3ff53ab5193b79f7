using Streaming.Hosting.Resilience;

namespace Streaming.Chaos.Environment;

/// <summary>Waits for a condition with a deadline, riding out transient faults of the probe itself (the suite stops PostgreSQL on purpose).</summary>
public static class Until
{
    public static async Task TrueAsync(Func<CancellationToken, Task<bool>> probe, TimeSpan timeout, Func<string> what, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        var pause = TimeSpan.FromMilliseconds(20);
        while (true)
        {
            try
            {
                if (await probe(cancellationToken))
                {
                    return;
                }
            }
            catch (Exception e) when (TransientFaults.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"gave up after {timeout.TotalSeconds:0} s waiting for {what()}");
            }
            await Task.Delay(pause, cancellationToken);
            pause = TimeSpan.FromMilliseconds(Math.Min(250, pause.TotalMilliseconds * 2));
        }
    }
}
