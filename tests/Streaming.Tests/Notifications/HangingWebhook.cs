namespace Streaming.Tests.Notifications;

/// <summary>
/// An HTTP handler whose requests never answer: the webhook of a process that hangs mid-send. It honours the request's
/// cancellation (a process stopped in order) or, when <paramref name="honoursCancellation"/> is false, only
/// <see cref="Release"/> (a process that is stuck for good, like a crashed one). <see cref="Called"/> completes at the
/// first request.
/// </summary>
public sealed class HangingWebhook(bool honoursCancellation) : HttpMessageHandler
{
    readonly CancellationTokenSource _release = new();
    readonly TaskCompletionSource _called = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Called => _called.Task;

    public void Release() => _release.Cancel();

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        _called.TrySetResult();
        using var linked = honoursCancellation
            ? CancellationTokenSource.CreateLinkedTokenSource(_release.Token, cancellationToken)
            : CancellationTokenSource.CreateLinkedTokenSource(_release.Token);
        await Task.Delay(Timeout.Infinite, linked.Token);
        throw new InvalidOperationException("unreachable: the delay above only ends by cancellation");
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _release.Dispose();
        }
        base.Dispose(disposing);
    }
}
