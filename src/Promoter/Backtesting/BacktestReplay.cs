using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Projections.History;
using Streaming.Projections.Tail;
using Streaming.Promoter.Decisions;

namespace Streaming.Promoter.Backtesting;

/// <summary>
/// Feeds a <see cref="Backtest"/> the recorded history: from the store's <see cref="HistoryArchive"/> as far as it
/// reaches and from the log after that (all from the log without the archive), and from a local
/// <see cref="HistoryCache"/> first when one is given. Nothing is written to the store.
/// </summary>
public static class BacktestReplay
{
    // Small reads: each is replayed and dropped before the GC has to promote it (20,000 at a time took a quarter longer
    // and twice the memory).
    const int BatchSize = 2_000;

    /// <summary>
    /// Replays the whole log, every partition in its commit order (a read's control events first): what <paramref name="cache"/> holds of it first, then what the history
    /// archive holds after that (unless <paramref name="useArchive"/> is false), then the rest from the log itself,
    /// each read ahead while the last read is replayed; what came from the store is added to the cache. Returns how
    /// many events came from each.
    /// </summary>
    public static async Task<(long FromCache, long FromArchive, long FromLog)> ReplayAsync(
        NpgsqlDataSource dataSource, Backtest backtest, HistoryCache? cache, bool useArchive, ILogger logger, CancellationToken cancellationToken)
    {
        var partitions = FollowedPartitions.All(await EventStoreSchema.ReadPartitioningAsync(dataSource, cancellationToken)).Read;
        var position = LogPositions.Start(partitions);
        long fromCache = 0, fromArchive = 0, fromLog = 0;
        // The local cache keeps one position: it serves the log of one partition only.
        var kept = partitions.Count == 1 ? cache : null;
        if (kept is not null && await OriginAsync(dataSource, cancellationToken) is { } origin)
        {
            position = LogPositions.At(LogPartitioner.ControlPartition, kept.Replay(origin, segment =>
            {
                backtest.Apply(segment);
                fromCache += segment.Count;
            }) ?? TailPosition.Start);
        }
        var source = new LogSource(dataSource, logger, BatchSize);
        try
        {
            var reading = ReadAsync(source, position, useArchive, cancellationToken);
            while (true)
            {
                var batch = await reading;
                if (batch.IsEmpty)
                {
                    return (fromCache, fromArchive, fromLog);
                }
                reading = ReadAsync(source, batch.End, useArchive, cancellationToken);
                var events = batch.Events;
                backtest.Apply(events);
                kept?.AppendSegment(events, batch.End[LogPartitioner.ControlPartition]);
                if (batch.FromArchive)
                {
                    fromArchive += events.Count;
                }
                else
                {
                    fromLog += events.Count;
                }
            }
        }
        finally
        {
            cache?.Close();
        }
    }

    /// <summary>
    /// Replays the whole log of a store sharded over several clusters (one shard is the replay of its store, above) as the
    /// log of one store with the same partitions would be replayed: in rounds, each taking the next events of every
    /// partition from its own shard (the control partition from shard 0 alone: the other shards hold copies of it), and
    /// folding them in partition order, so the control partition's come first, each partition in its commit order. A shard
    /// other than 0 reads its round from the history archive only when shard 0's round came from it too (or shard 0 has
    /// nothing left), so its archived blocks never run ahead of control events shard 0 still reads from its log. No local
    /// cache: it keeps one store's log of one partition. Returns how many events came from the archives and the logs.
    /// </summary>
    public static async Task<(long FromArchive, long FromLog)> ReplayAsync(
        StoreShards shards, Backtest backtest, bool useArchive, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(shards);
        if (shards.Map is not { } map)
        {
            var (_, archived, logged) = await ReplayAsync(shards.Control, backtest, null, useArchive, logger, cancellationToken);
            return (archived, logged);
        }
        var sources = shards.All.Select(store => new LogSource(store, logger, BatchSize)).ToArray();
        long fromArchive = 0, fromLog = 0;
        var reading = ReadRoundAsync(sources, [.. Enumerable.Range(0, map.Shards).Select(shard => LogPositions.Start(map.PartitionsOf(shard)))], useArchive, cancellationToken);
        while (true)
        {
            var round = await reading;
            if (round.All(batch => batch.IsEmpty))
            {
                return (fromArchive, fromLog);
            }
            reading = ReadRoundAsync(sources, [.. round.Select(batch => batch.End)], useArchive, cancellationToken);
            backtest.Apply([.. round.SelectMany(batch => batch.Events).OrderBy(e => e.Event.Partition)]);
            foreach (var batch in round)
            {
                if (batch.FromArchive)
                {
                    fromArchive += batch.Count;
                }
                else
                {
                    fromLog += batch.Count;
                }
            }
        }
    }

    // Each shard's next batch, shard 0's first (whether it came from the archive says whether the others may), read and
    // decoded on a pool thread while the last round is replayed.
    static Task<LogBatch[]> ReadRoundAsync(LogSource[] sources, LogPositions[] after, bool useArchive, CancellationToken cancellationToken) =>
        Task.Run(async () =>
        {
            var round = new LogBatch[sources.Length];
            round[0] = await sources[0].ReadAsync(after[0], useArchive, cancellationToken);
            var archive = useArchive && (round[0].FromArchive || round[0].IsEmpty);
            await Task.WhenAll(Enumerable.Range(1, sources.Length - 1).Select(async shard => round[shard] = await sources[shard].ReadAsync(after[shard], archive, cancellationToken)));
            return round;
        }, cancellationToken);

    // The next batch, read and decoded on a pool thread: reading one batch overlaps replaying the last.
    static Task<LogBatch> ReadAsync(LogSource source, LogPositions after, bool useArchive, CancellationToken cancellationToken) =>
        Task.Run(() => source.ReadAsync(after, useArchive, cancellationToken), cancellationToken);

    /// <summary>How the recorded history's waves and breakers were decided: by the owner of the control partition when it holds admission or breaker-count streams.</summary>
    public static async Task<AdmissionMode> AdmissionModeAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select exists (select 1 from es.streams where starts_with(stream_id, $1) or starts_with(stream_id, $2))");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = AdmissionRequested.StreamPrefix });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = BreakerCountReported.StreamPrefix });
        return await command.ExecuteScalarAsync(cancellationToken) is true ? AdmissionMode.Owner : AdmissionMode.Local;
    }

    /// <summary>The first event of the log: what tells one log's cache from another's.</summary>
    static async Task<Guid?> OriginAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select event_id from es.events order by global_position limit 1");
        return await command.ExecuteScalarAsync(cancellationToken) is Guid id ? id : null;
    }
}
