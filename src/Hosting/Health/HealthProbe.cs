using System.Net;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Hosting.Resilience;

namespace Streaming.Hosting.Health;

/// <summary>
/// Liveness and readiness for a service without an HTTP surface of its own (Ingest, Projector, Promoter), for a
/// container's health check or an orchestrator's probes: <c>/health/live</c> answers while the process runs;
/// <c>/health/ready</c> answers 200 while PostgreSQL answers and no loop is waiting out an outage or stopped, 503 with
/// the dependency that is not (never an exception's text) otherwise. Listens on 127.0.0.1 only: the probe runs beside
/// the process, and nothing about the service is exposed beyond it.
/// </summary>
sealed partial class HealthProbe(int port, NpgsqlDataSource dataSource, LoopHealth loops, ILogger<HealthProbe> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var listener = new HttpListener();
        listener.Prefixes.Add($"http://127.0.0.1:{port}/");
        listener.Start();
        LogListening(logger, port);
        using var stopping = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException && stoppingToken.IsCancellationRequested)
            {
                return;
            }
            _ = AnswerAsync(context, stoppingToken);
        }
    }

    async Task AnswerAsync(HttpListenerContext context, CancellationToken cancellationToken)
    {
        using var response = context.Response;
        var (status, body) = context.Request.Url?.AbsolutePath switch
        {
            "/health/live" => (200, "live"),
            "/health/ready" => await ReadinessAsync(cancellationToken),
            _ => (404, "not found"),
        };
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        var bytes = Encoding.UTF8.GetBytes(body + "\n");
        try
        {
            await response.OutputStream.WriteAsync(bytes, cancellationToken);
        }
        catch (Exception e) when (e is HttpListenerException or IOException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    async Task<(int Status, string Body)> ReadinessAsync(CancellationToken cancellationToken)
    {
        var problems = new List<string>();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await using var command = dataSource.CreateCommand("select 1");
            await command.ExecuteScalarAsync(timeout.Token);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            problems.Add("PostgreSQL is not reachable");
        }
        problems.AddRange(loops.Snapshot().Where(l => l.Condition != LoopCondition.Running).Select(l => $"{l.Loop}: {l.Condition}"));
        return problems.Count == 0 ? (200, "ready") : (503, "not ready: " + string.Join("; ", problems));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Health probes on http://127.0.0.1:{Port}/health/live and /health/ready")]
    static partial void LogListening(ILogger logger, int port);
}
