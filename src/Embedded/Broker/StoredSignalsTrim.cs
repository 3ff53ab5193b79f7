using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Streaming.Embedded.Broker;

/// <summary>
/// Keeps the embedded broker's signal partitions short: every second it deletes from each what Ingest has stored, all
/// but the last <see cref="Kept"/> signals; the store holds them. librdkafka's mock cluster finds the place a fetch
/// reads from by walking the partition's log from its start (it keeps no index), for every fetch, so with the 5 MB a
/// partition it otherwise keeps, consumers fetching every few milliseconds kept most of a core busy walking.
/// </summary>
/// <param name="stored">The next offset stored of each partition, from a source that knows only this broker's offsets.</param>
public sealed partial class StoredSignalsTrim(
    EmbeddedKafkaCluster cluster,
    string topic,
    Func<CancellationToken, Task<IReadOnlyDictionary<int, long>>> stored,
    ILogger<StoredSignalsTrim> logger) : BackgroundService
{
    /// <summary>How many stored signals each partition keeps: the recent ones stay readable from the broker.</summary>
    public const int Kept = 1_000;

    static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    readonly Dictionary<int, long> _trimmedBefore = [];
    bool _failing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await TrimAsync(stoppingToken);
                    if (_failing)
                    {
                        _failing = false;
                        LogTrimming(logger, topic);
                    }
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // The stored offsets could not be read (the store is down, or a read timed out): nothing is deleted
                    // until they can be, and the broker goes on.
                    if (!_failing)
                    {
                        _failing = true;
                        LogNotTrimming(logger, e, topic);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Deletes what is stored from each partition but the last <see cref="Kept"/>; returns how many partitions it trimmed.</summary>
    public async Task<int> TrimAsync(CancellationToken cancellationToken)
    {
        var trimmed = 0;
        foreach (var (partition, next) in await stored(cancellationToken))
        {
            var before = next - Kept;
            if (before <= _trimmedBefore.GetValueOrDefault(partition))
            {
                continue;
            }
            var error = cluster.TryDeleteRecords(topic, partition, before);
            if (error == ErrorCode.NoError)
            {
                _trimmedBefore[partition] = before;
                trimmed++;
            }
            else
            {
                LogNotTrimmed(logger, topic, partition, before, error);
            }
        }
        return trimmed;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Not deleting stored signals from the embedded broker's {Topic}: the stored offsets could not be read")]
    static partial void LogNotTrimming(ILogger logger, Exception exception, string topic);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleting stored signals from the embedded broker's {Topic} again")]
    static partial void LogTrimming(ILogger logger, string topic);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Kept {Topic}/{Partition} below {Before}: the broker said {Error}")]
    static partial void LogNotTrimmed(ILogger logger, string topic, int partition, long before, ErrorCode error);
}
