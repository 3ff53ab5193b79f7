using Npgsql;
using Streaming.EventStore;

namespace Streaming.Api.Fleet;

/// <summary>
/// Reads what <see cref="FleetHistoryFold"/> wrote (one fold per shard, over the shard's jobs): the fleet over time, each
/// shard's counts summed hour by hour, and the decision feed.
/// </summary>
public sealed class FleetHistoryQueries(StoreShards shards)
{
    /// <summary>The last <paramref name="hours"/> hours of event time that have data, up to the latest.</summary>
    public async Task<FleetHistory> HistoryAsync(int hours, CancellationToken cancellationToken)
    {
        var histories = await shards.EachAsync((dataSource, token) => ShardHistoryAsync(dataSource, hours, token), cancellationToken);
        if (histories.Length == 1)
        {
            return histories[0];
        }
        // A shard's count of a phase holds until its next hour with events: each shard's series carried over every
        // shard's hours, then added up.
        var axis = histories.SelectMany(h => h.Hours).Distinct().Order().ToList();
        if (axis.Count > 0)
        {
            axis = [.. axis.Where(hour => hour > axis[^1] - TimeSpan.FromHours(hours))];
        }
        var hourIndex = histories.Select(h => h.Hours.Select((hour, i) => (hour, i)).ToDictionary(x => x.hour, x => x.i)).ToArray();
        var phases = histories.SelectMany(h => h.Phases.Select(p => p.Phase)).Distinct().Order(StringComparer.Ordinal).Select(phase =>
        {
            var series = new int[axis.Count];
            for (var shard = 0; shard < histories.Length; shard++)
            {
                var own = histories[shard].Phases.FirstOrDefault(p => p.Phase == phase);
                var last = 0;
                for (var i = 0; i < axis.Count; i++)
                {
                    last = own is not null && hourIndex[shard].TryGetValue(axis[i], out var at) ? own.Jobs[at] : last;
                    series[i] += last;
                }
            }
            return new PhaseSeries(phase, series);
        }).ToList();
        var moves = histories.SelectMany(h => h.Moves.Select(m => m.Direction)).Distinct().Order(StringComparer.Ordinal).Select(direction =>
        {
            var series = new int[axis.Count];
            for (var shard = 0; shard < histories.Length; shard++)
            {
                if (histories[shard].Moves.FirstOrDefault(m => m.Direction == direction) is not { } own)
                {
                    continue;
                }
                for (var i = 0; i < axis.Count; i++)
                {
                    series[i] += hourIndex[shard].TryGetValue(axis[i], out var at) ? own.Moves[at] : 0;
                }
            }
            return new MoveSeries(direction, series);
        }).ToList();
        return new FleetHistory(axis, phases, moves);
    }

    static async Task<FleetHistory> ShardHistoryAsync(NpgsqlDataSource dataSource, int hours, CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            with latest as (select max(hour) as hour from fleet.phase_history)
            select h.hour, h.phase, h.jobs from fleet.phase_history h, latest
            where h.hour > latest.hour - make_interval(hours => $1) order by h.hour, h.phase
            """) { Parameters = { new NpgsqlParameter<int> { TypedValue = hours } } });
        batch.BatchCommands.Add(new NpgsqlBatchCommand("""
            with latest as (select max(hour) as hour from fleet.phase_history)
            select m.hour, m.direction, sum(m.moves)::int from fleet.moves_per_hour m, latest
            where m.hour > latest.hour - make_interval(hours => $1) group by 1, 2 order by 1, 2
            """) { Parameters = { new NpgsqlParameter<int> { TypedValue = hours } } });
        var counts = new List<(DateTimeOffset Hour, string Phase, int Jobs)>();
        var moves = new List<(DateTimeOffset Hour, string Direction, int Moves)>();
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                counts.Add((reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetInt32(2)));
            }
            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                moves.Add((reader.GetFieldValue<DateTimeOffset>(0), reader.GetString(1), reader.GetInt32(2)));
            }
        }
        var axis = counts.Select(c => c.Hour).Concat(moves.Select(m => m.Hour)).Distinct().Order().ToList();
        var index = axis.Select((hour, i) => (hour, i)).ToDictionary(x => x.hour, x => x.i);
        var phases = counts.GroupBy(c => c.Phase).Select(g =>
        {
            var series = new int[axis.Count];
            // An hour without events of the phase keeps the count it had before.
            var byHour = g.ToDictionary(c => c.Hour, c => c.Jobs);
            var last = 0;
            for (var i = 0; i < axis.Count; i++)
            {
                last = byHour.TryGetValue(axis[i], out var jobs) ? jobs : last;
                series[i] = last;
            }
            return new PhaseSeries(g.Key, series);
        }).ToList();
        var moveSeries = moves.GroupBy(m => m.Direction).Select(g =>
        {
            var series = new int[axis.Count];
            foreach (var move in g)
            {
                series[index[move.Hour]] = move.Moves;
            }
            return new MoveSeries(g.Key, series);
        }).ToList();
        return new FleetHistory(axis, phases, moveSeries);
    }

    /// <summary>
    /// The decisions the filter selects, newest first: in log order on one shard. With several, in order of decision time
    /// (then shard, then log position), each shard asked for a page + 1 after the cursor and the pages merged; a cursor
    /// is then <c>position × shards + shard</c>, where the decision it names says the time to go on from.
    /// </summary>
    public async Task<FeedPage> FeedAsync(FeedFilter filter, CancellationToken cancellationToken)
    {
        if (shards.Count == 1)
        {
            return Page(await ShardFeedAsync(shards.All[0], filter, filter.Before, "true", "global_position desc", null, cancellationToken), filter.Limit);
        }
        var count = shards.Count;
        (DateTimeOffset At, int Shard, long Position)? after = null;
        if (filter.Before is { } before)
        {
            var (position, shard) = (before / count, (int)(before % count));
            if (before < 0 || await DecidedAtAsync(shards.All[shard], position, cancellationToken) is not { } at)
            {
                return new FeedPage([], null);
            }
            after = (at, shard, position);
        }
        var pages = await Task.WhenAll(Enumerable.Range(0, count).Select(async shard =>
        {
            var keyset = after is not { } cursor ? "true"
                : shard < cursor.Shard ? "decided_at <= $9"
                : shard == cursor.Shard ? "(decided_at, global_position) < ($9, $10)"
                : "decided_at < $9";
            var rows = await ShardFeedAsync(shards.All[shard], filter, null, keyset, "decided_at desc, global_position desc", after, cancellationToken);
            return rows.Select(d => d with { Cursor = d.Cursor * count + shard });
        }));
        var merged = pages.SelectMany(p => p).OrderByDescending(d => d.DecidedAt).ThenByDescending(d => d.Cursor % count).ThenByDescending(d => d.Cursor / count)
            .Take(filter.Limit + 1).ToList();
        return Page(merged, filter.Limit);
    }

    static FeedPage Page(List<FeedDecision> decisions, int limit) =>
        decisions.Count > limit ? new FeedPage(decisions[..limit], decisions[limit - 1].Cursor) : new FeedPage(decisions, null);

    static async Task<DateTimeOffset?> DecidedAtAsync(NpgsqlDataSource dataSource, long position, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select decided_at from fleet.decisions where global_position = $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = position });
        return await command.ExecuteScalarAsync(cancellationToken) is DateTime at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;
    }

    /// <summary>One shard's decisions the filter selects past <paramref name="keyset"/>, in <paramref name="order"/>: up to a page + 1.</summary>
    static async Task<List<FeedDecision>> ShardFeedAsync(
        NpgsqlDataSource dataSource, FeedFilter filter, long? before, string keyset, string order, (DateTimeOffset At, int Shard, long Position)? after,
        CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"""
            select global_position, event_id, job_id, from_phase, to_phase, direction, policy, decided_at, recorded_at, reason
            from fleet.decisions
            where ($1::text is null or direction = $1)
              and ($2::text is null or policy_name = $2)
              and ($3::text is null or from_phase = $3 or to_phase = $3)
              and ($4::timestamptz is null or decided_at >= $4)
              and ($5::timestamptz is null or decided_at < $5)
              and ($6::bigint is null or global_position < $6)
              and ($8::text is null or job_id = $8)
              and {keyset}
            order by {order}
            limit $7
            """);
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = filter.Direction });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = filter.Policy });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = filter.Phase });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?> { TypedValue = filter.From?.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset?> { TypedValue = filter.To?.ToUniversalTime() });
        command.Parameters.Add(new NpgsqlParameter<long?> { TypedValue = before });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = filter.Limit + 1 });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = filter.JobId });
        if (after is { } cursor)
        {
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = cursor.At });
            command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = cursor.Position });
        }
        var decisions = new List<FeedDecision>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            decisions.Add(new FeedDecision(reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                reader.GetString(5), reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7), reader.GetFieldValue<DateTimeOffset>(8), reader.GetString(9)));
        }
        return decisions;
    }
}
