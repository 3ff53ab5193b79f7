using Confluent.Kafka;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ownership;

/// <summary>
/// Signals flowing steadily: a round of one good shadow signal per job every 50 ms, round r with seq r + 1 at
/// <see cref="SignalFactory.Start"/> plus r quarter-seconds of event time, until <see cref="StopAsync"/>.
/// </summary>
public sealed class SteadySignals : IAsyncDisposable
{
    public static readonly TimeSpan EventTimeStep = TimeSpan.FromMilliseconds(250);
    static readonly TimeSpan Every = TimeSpan.FromMilliseconds(50);

    readonly CancellationTokenSource _stop = new();
    readonly Task<int> _producing;

    public SteadySignals(string bootstrapServers, IReadOnlyList<string> jobs) =>
        _producing = Task.Run(() => Produce(bootstrapServers, jobs, _stop.Token));

    /// <summary>Stops the rounds; returns how many were produced (each job's last seq).</summary>
    public async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        return await _producing;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _producing.ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    static async Task<int> Produce(string bootstrapServers, IReadOnlyList<string> jobs, CancellationToken stop)
    {
        using var producer = SignalFactory.Producer(bootstrapServers);
        using var pacing = new PeriodicTimer(Every);
        var round = 0;
        while (!stop.IsCancellationRequested)
        {
            var at = SignalFactory.Start + EventTimeStep * round;
            producer.Produce(jobs.Select(job => SignalFactory.Signal(job, round + 1, at, "shadow", SignalFactory.Good)));
            round++;
            try
            {
                // Pacing, not synchronisation: the rounds' rate.
                await pacing.WaitForNextTickAsync(stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return round;
    }
}
