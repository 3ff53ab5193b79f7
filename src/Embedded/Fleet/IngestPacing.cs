using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Hosting.Resilience;

namespace Streaming.Embedded.Fleet;

/// <summary>
/// Keeps a producer from outrunning Ingest: no partition may hold more than <c>maxUnstored</c> messages that Ingest has
/// not stored yet (the offsets it stores in <c>es.kafka_offsets</c> with the events), counting every message still in
/// flight as if it went to the furthest-behind partition. The embedded broker keeps only 5 MB a partition and drops the
/// oldest beyond that, so a producer paced this way loses nothing however many jobs it simulates or however long
/// Ingest is down.
/// </summary>
public sealed partial class IngestPacing(
    SignalLog store,
    string consumerGroup,
    string topic,
    IReadOnlyList<long> logEnds,
    int maxUnstored,
    LoopHealth health,
    ILogger logger)
{
    static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(50);

    // Pauses shorter than this are the normal rhythm of a producer ahead of its consumer, not worth a line.
    static readonly TimeSpan NotablePause = TimeSpan.FromSeconds(5);

    readonly long[] _delivered = new long[logEnds.Count];
    readonly Outage _outage = new("fleet pacing", health, logger);
    long _produced;
    long _completed;
    long? _pausedSince;
    bool _pauseLogged;

    /// <summary>The most messages produced between two checks: a quarter of the bound, so a check is never far behind.</summary>
    public int Chunk { get; } = Math.Max(1, maxUnstored / 4);

    public void Produced() => Interlocked.Increment(ref _produced);

    /// <summary>A delivery report: stored by the broker on <paramref name="partition"/>, or failed (null).</summary>
    public void Completed(int? partition)
    {
        if (partition is { } p && p < _delivered.Length)
        {
            Interlocked.Increment(ref _delivered[p]);
        }
        Interlocked.Increment(ref _completed);
    }

    /// <summary>Waits until <paramref name="messages"/> more can be produced without any partition exceeding the bound.</summary>
    public async Task WaitForRoomAsync(int messages, CancellationToken cancellationToken)
    {
        while (true)
        {
            long ahead;
            try
            {
                ahead = await AheadAsync(cancellationToken);
                _outage.Succeeded();
            }
            catch (Exception e) when (TransientFaults.IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(_outage.Failed(e), cancellationToken);
                continue;
            }
            if (ahead + messages <= maxUnstored)
            {
                if (_pauseLogged)
                {
                    LogResumed(logger, Stopwatch.GetElapsedTime(_pausedSince!.Value));
                }
                _pausedSince = null;
                _pauseLogged = false;
                return;
            }
            _pausedSince ??= Stopwatch.GetTimestamp();
            if (!_pauseLogged && Stopwatch.GetElapsedTime(_pausedSince.Value) >= NotablePause)
            {
                _pauseLogged = true;
                LogPaused(logger, ahead, maxUnstored);
            }
            await Task.Delay(Pause, cancellationToken);
        }
    }

    async Task<long> AheadAsync(CancellationToken cancellationToken)
    {
        var stored = await store.LoadKafkaOffsetsAsync(consumerGroup, topic, cancellationToken);
        long ahead = 0;
        for (var partition = 0; partition < _delivered.Length; partition++)
        {
            var end = logEnds[partition] + Interlocked.Read(ref _delivered[partition]);
            ahead = Math.Max(ahead, end - stored.GetValueOrDefault(partition));
        }
        return ahead + Interlocked.Read(ref _produced) - Interlocked.Read(ref _completed);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fleet paused for 5 s so far: Ingest has not stored {Ahead} of its messages on one partition (at most {Bound} may wait in the broker)")]
    static partial void LogPaused(ILogger logger, long ahead, int bound);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fleet resumed after {Duration}: Ingest caught up")]
    static partial void LogResumed(ILogger logger, TimeSpan duration);
}
