using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.History;

namespace Streaming.Projections.Tail;

/// <summary>
/// Reads the log in commit order from any position and decodes each event once: from the history archive's blocks
/// where they reach and the caller accepts them (signals already decoded, one row per 2,000 events), from the log's
/// gap-free tail after that. Not thread-safe: one per reading loop.
/// </summary>
public sealed class LogSource(NpgsqlDataSource dataSource, ILogger logger, int batchSize = LogSource.DefaultBatchSize)
{
    public const int DefaultBatchSize = 5_000;

    // Archive blocks read at a time (of 2,000 events each): a batch's array stays under 85,000 bytes, so it dies young
    // instead of waiting in the large-object heap for a full collection.
    const int BlocksPerRead = 2;

    readonly EventLog _log = new(dataSource);
    readonly EventDecoder _decoder = new();
    readonly LogEvent[] _read = new LogEvent[batchSize];
    TailPosition? _archiveEndedAt;

    public int BatchSize => batchSize;

    /// <summary>
    /// The next events after <paramref name="after"/>: whole archive blocks when <paramref name="archive"/> allows and
    /// the archive reaches past <paramref name="after"/> (never past <paramref name="archiveUpTo"/>), else up to
    /// <see cref="BatchSize"/> events of the log. Empty when nothing newer is committed yet.
    /// </summary>
    public async Task<LogBatch> ReadAsync(TailPosition after, bool archive, CancellationToken cancellationToken, TailPosition? archiveUpTo = null)
    {
        if (archive && !(_archiveEndedAt is { } ended && after.CompareTo(ended) >= 0)
            && !(archiveUpTo is { } upTo && upTo.CompareTo(after) <= 0)
            && await ReadArchiveAsync(after, archiveUpTo, cancellationToken) is { } archived)
        {
            return archived;
        }
        var count = 0;
        await _log.ReadTailAsync(after, batchSize, (envelope, body) => _read[count++] = _decoder.Decode(envelope, body), cancellationToken);
        if (count == 0)
        {
            return LogBatch.Empty(after);
        }
        // Each batch gets an array of its own size: folds keep it while the next read fills the buffer.
        var events = _read.AsSpan(0, count).ToArray();
        Array.Clear(_read, 0, count);
        return new LogBatch(after, events, count, events[^1].Position);
    }

    async Task<LogBatch?> ReadArchiveAsync(TailPosition after, TailPosition? upTo, CancellationToken cancellationToken)
    {
        var blocks = await HistoryArchive.ReadAsync(dataSource, after, BlocksPerRead, logger, cancellationToken);
        var events = new LogEvent[blocks.Sum(b => b.Events.Count)];
        var count = 0;
        foreach (var block in blocks)
        {
            foreach (var logEvent in block.Events)
            {
                if (upTo is { } limit && logEvent.Position.CompareTo(limit) > 0)
                {
                    break;
                }
                events[count++] = logEvent;
            }
        }
        if (count == 0)
        {
            // Past the archive's end (or at a block it cannot read): the log from here on.
            _archiveEndedAt = after;
            return null;
        }
        return new LogBatch(after, events, count, events[count - 1].Position) { FromArchive = true };
    }
}
