using System.Globalization;
using Streaming.EventStore;

namespace Streaming.Chaos.Scenarios;

/// <summary>
/// PostgreSQL stopped (<c>pg_ctl stop -m fast</c>) at 40% of the stream and started again after <c>outage</c>; no service
/// may exit meanwhile. With several shards it stops <c>shard</c>'s cluster alone, and the other shards must go on storing
/// signals and deciding while it is down: their counts of both must grow between the stop and the restart.
/// </summary>
public sealed class PostgresOutagePlan(TimeSpan outage, int shard = 0) : IFaultPlan
{
    readonly List<string> _injected = [];
    readonly List<string> _unmet = [];
    Task? _restart;

    public string Name => shard == 0 ? "PostgreSQL restart" : $"PostgreSQL restart of shard {shard}";

    public IReadOnlyList<string> Injected => _injected;

    public IReadOnlyList<string> Unmet => _unmet;

    public int ExpectedExits => 0;

    public async Task AtAsync(long sent, FaultContext context, CancellationToken cancellationToken)
    {
        if (_restart is not null || sent < context.TotalMessages * 4 / 10)
        {
            return;
        }
        var others = Enumerable.Range(0, context.Store.Count).Where(s => s != shard).ToList();
        await context.Postgres[shard].StopAsync();
        var before = await StoredAsync(context.Store, others, cancellationToken);
        var stopped = context.Store.Count == 1 ? "PostgreSQL" : $"shard {shard}'s PostgreSQL";
        _injected.Add(string.Create(CultureInfo.InvariantCulture, $"{stopped} stopped for {outage.TotalSeconds:0} s after {sent:N0} messages"));
        // The stream goes on meanwhile (the producer waits for Ingest, which waits for PostgreSQL, of that shard only).
        _restart = Task.Run(async () =>
        {
            await Task.Delay(outage, cancellationToken);
            var after = await StoredAsync(context.Store, others, cancellationToken);
            await context.Postgres[shard].RestartAsync();
            foreach (var other in others)
            {
                var (signals, decisions) = (after[other].Signals - before[other].Signals, after[other].Decisions - before[other].Decisions);
                _injected[0] += string.Create(CultureInfo.InvariantCulture, $"; meanwhile shard {other} stored {signals:N0} signals and {decisions:N0} decisions");
                if (signals <= 0 || decisions <= 0)
                {
                    _unmet.Add(string.Create(CultureInfo.InvariantCulture,
                        $"shard {other} stored {signals:N0} signals and {decisions:N0} decisions while shard {shard} was down: its partitions should go on"));
                }
            }
        }, cancellationToken);
    }

    public Task FinishAsync(FaultContext context, CancellationToken cancellationToken) => _restart ?? Task.CompletedTask;

    static async Task<Dictionary<int, (long Signals, long Decisions)>> StoredAsync(StoreShards store, IEnumerable<int> shards, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<int, (long, long)>();
        foreach (var shard in shards)
        {
            await using var command = store.DataSource(shard).CreateCommand(
                "select count(*) filter (where type = 'signal-recorded/v1'), count(*) filter (where type = 'phase-changed/v1') from es.events");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            counts[shard] = (reader.GetInt64(0), reader.GetInt64(1));
        }
        return counts;
    }
}
