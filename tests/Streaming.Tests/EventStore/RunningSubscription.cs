using Streaming.EventStore;

namespace Streaming.Tests.EventStore;

/// <summary>A subscription's <see cref="CatchUpSubscription.RunAsync"/> in the background, stopped and awaited on dispose.</summary>
internal sealed class RunningSubscription : IAsyncDisposable
{
    readonly CancellationTokenSource _stop = new();

    public RunningSubscription(CatchUpSubscription subscription) => Run = subscription.RunAsync(_stop.Token);

    public Task Run { get; }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Run;
        _stop.Dispose();
    }
}
