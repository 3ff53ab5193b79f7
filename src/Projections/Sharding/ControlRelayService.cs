using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;
using Streaming.Projections.Tail;

namespace Streaming.Projections.Sharding;

/// <summary>
/// Runs a <see cref="ControlRelay"/> into the process's shard when that shard is not the control streams' home: at
/// start, on every append notification of the home, and at least every <see cref="PollInterval"/>; the home is read
/// through a data source whose transactions are read-only. An outage of either store is waited out; a copy that would
/// differ from its home stops the process.
/// </summary>
sealed partial class ControlRelayService(
    NpgsqlDataSource shard, ControlStore home, TailOptions tail, LoopHealth health, ILogger<ControlRelayService> logger) : BackgroundService
{
    public const string LoopName = "control-relay";

    static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    // Between two looks at the home: its notifications come with every append of its Ingest, most of them job signals.
    static readonly TimeSpan MinPause = TimeSpan.FromMilliseconds(250);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (home.IsLocal)
        {
            return;
        }
        await using var readOnlyHome = home.OpenReadOnly();
        await using var wakeups = new LogWakeups(readOnlyHome, tail.ReconnectDelay, logger);
        wakeups.Start();
        var relay = new ControlRelay(shard, readOnlyHome);
        var outage = new Outage(LoopName, health, logger);
        while (!stoppingToken.IsCancellationRequested)
        {
            var next = wakeups.Next;
            try
            {
                if (await relay.CatchUpAsync(stoppingToken) is > 0 and var copied)
                {
                    LogCopied(logger, copied);
                }
                outage.Succeeded();
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested && (TransientFaults.IsTransient(e) || ControlStore.NotMigratedYet(e)))
            {
                await Outage.WaitAsync(outage.Failed(e), stoppingToken);
                continue;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            try
            {
                await Task.Delay(MinPause, stoppingToken);
                await Task.WhenAny(next, Task.Delay(PollInterval, stoppingToken));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Copied {Count} control events from shard 0 into this shard")]
    static partial void LogCopied(ILogger logger, int count);
}
