using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Streaming.Hosting;

/// <summary>
/// Runs a service's host until it stops and turns how it stopped into the process's exit code: 0 when the stop was
/// requested (Ctrl-C, SIGTERM), <see cref="Failed"/> when a loop failed or the host could not start, so a supervisor
/// or monitoring sees the failure (the host alone exits 0 when a <see cref="BackgroundService"/> throws).
/// </summary>
public static partial class ServiceExit
{
    public const int Stopped = 0;

    public const int Failed = 1;

    public static async Task<int> RunToExitCodeAsync(this IHost host)
    {
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ServiceExit).FullName!);
        var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
        try
        {
            // The same instances the host runs: hosted services are singletons.
            var loops = host.Services.GetServices<IHostedService>().OfType<BackgroundService>().ToList();
            await host.StartAsync();
            await host.WaitForShutdownAsync();
            var failed = loops.Where(l => l.ExecuteTask is { IsFaulted: true }).Select(l => l.GetType().Name).ToList();
            if (failed.Count > 0)
            {
                LogLoopsFailed(logger, string.Join(", ", failed), Failed);
                return Failed;
            }
            return Stopped;
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested)
        {
            // Asked to stop while still starting.
            return Stopped;
        }
        catch (Exception e)
        {
            LogStartFailed(logger, e, Failed);
            return Failed;
        }
        finally
        {
            if (host is IAsyncDisposable asyncDisposable)
            {
                await asyncDisposable.DisposeAsync();
            }
            else
            {
                host.Dispose();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "Stopped because {Loops} failed; exiting with code {ExitCode}")]
    static partial void LogLoopsFailed(ILogger logger, string loops, int exitCode);

    [LoggerMessage(Level = LogLevel.Critical, Message = "The service could not start or stop cleanly; exiting with code {ExitCode}")]
    static partial void LogStartFailed(ILogger logger, Exception exception, int exitCode);
}
