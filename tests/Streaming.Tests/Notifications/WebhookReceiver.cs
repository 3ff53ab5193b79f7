using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Streaming.Tests.Notifications;

/// <summary>
/// A local HTTP receiver for webhooks (Kestrel) on a port of its own that it keeps across <see cref="StopAsync"/> and
/// <see cref="StartAsync"/>: while stopped, connections to it are refused, as to a receiver that is down. It records
/// every request; paths starting <c>/refuse</c> are answered 400.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    readonly List<ReceivedWebhook> _received = [];
    WebApplication? _app;

    public int Port { get; } = Streaming.Chaos.Environment.FreePort.Next();

    public string Url(string path) => $"http://127.0.0.1:{Port}{path}";

    public IReadOnlyList<ReceivedWebhook> Received
    {
        get
        {
            lock (_received)
            {
                return [.. _received];
            }
        }
    }

    public async Task StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Port}");
        _app = builder.Build();
        _app.MapPost("/{**path}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            lock (_received)
            {
                _received.Add(new ReceivedWebhook(context.Request.Path, context.Request.Headers["Idempotency-Key"].ToString(), body));
            }
            return context.Request.Path.StartsWithSegments("/refuse")
                ? Results.Text("no such channel", statusCode: StatusCodes.Status400BadRequest)
                : Results.Ok();
        });
        await _app.StartAsync();
    }

    public async Task StopAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
            _app = null;
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}

/// <summary>One request the receiver got: its path, its idempotency key and its body.</summary>
public sealed record ReceivedWebhook(string Path, string IdempotencyKey, string Body);
