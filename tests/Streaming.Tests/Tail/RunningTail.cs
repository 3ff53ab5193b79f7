using System.Runtime.ExceptionServices;
using Streaming.Projections.Tail;

namespace Streaming.Tests.Tail;

/// <summary>A <see cref="LogTail"/> running in the background, stopped and awaited on dispose (which rethrows what failed it).</summary>
internal sealed class RunningTail : IAsyncDisposable
{
    readonly CancellationTokenSource _stop = new();

    /// <param name="followed">The share of the log's partitions to follow; every partition when null.</param>
    public RunningTail(LogTail tail, FollowedPartitions? followed = null) => Run = Task.Run(() => tail.RunAsync(followed, _stop.Token));

    public Task Run { get; }

    /// <summary>Stops the tail and returns what ended it, when that was a failure.</summary>
    public async Task<Exception?> StopAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await Run;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    public async ValueTask DisposeAsync()
    {
        var failure = await StopAsync();
        _stop.Dispose();
        if (failure is not null)
        {
            ExceptionDispatchInfo.Throw(failure);
        }
    }
}
