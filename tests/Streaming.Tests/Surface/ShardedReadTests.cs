using Npgsql;
using Streaming.Api.Fleet;
using Streaming.Api.Jobs;
using Streaming.Api.Policies;
using Streaming.Api.Shards;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Projector.JobStates;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>
/// The API's reads over a store sharded on two PostgreSQL clusters: each job's rows written on its shard as the Projector
/// of that shard writes them; a job's reads find it there, fleet figures are the shards' sums, and the jobs list pages
/// through both shards' jobs in order, each once.
/// </summary>
public sealed class ShardedReadTests(TwoShardStore store) : IClassFixture<TwoShardStore>, IAsyncLifetime
{
    static readonly string[] Phases = ["shadow", "reverse_shadow", "cleanup"];
    static readonly IReadOnlyList<ListedJob> Jobs = ListedJob.Many(53);

    public async Task InitializeAsync()
    {
        foreach (var shard in Enumerable.Range(0, 2))
        {
            await ListedJob.WriteAsync(store.Shards.All[shard], [.. Jobs.Where(j => TwoShardStore.ShardOf(j.Id) == shard)], version: 1);
        }
    }

    public Task DisposeAsync() => Task.CompletedTask;

    JobQueries Queries()
    {
        var policies = new PolicyCatalog(store.Shards.Control);
        return new JobQueries(store.Shards, policies, new GateQueries(store.Shards, policies));
    }

    [Fact]
    public async Task The_second_shard_is_migrated_with_the_first_s_partitioning_and_each_holds_jobs()
    {
        // Given the store as the API migrates it, and the jobs written each on its shard
        // Then shard 1 has shard 0's partition count, and both shards hold jobs
        Assert.Equal(TwoShardStore.Partitions, (await EventStoreSchema.ReadPartitioningAsync(store.Shards.All[1], CancellationToken.None)).Partitions);
        Assert.Equal(2, store.Shards.Count);
        Assert.All(new[] { 0, 1 }, shard => Assert.Contains(Jobs, j => TwoShardStore.ShardOf(j.Id) == shard));
    }

    [Fact]
    public async Task A_job_s_detail_is_read_from_its_shard()
    {
        var queries = Queries();
        foreach (var job in Jobs)
        {
            // When a job's detail is asked for
            var detail = await queries.DetailAsync(job.Id, CancellationToken.None);

            // Then it is found, as its shard holds it, and the other shard does not hold it
            Assert.NotNull(detail);
            Assert.Equal(job.Phase, detail.AssignedPhase);
            Assert.Equal(TwoShardStore.ShardOf(job.Id), store.Shards.ShardOfJob(job.Id));
            Assert.Equal(0L, await CountAsync(store.Shards.All[1 - TwoShardStore.ShardOf(job.Id)], job.Id));
        }
        Assert.Null(await queries.DetailAsync("no-such-job", CancellationToken.None));
    }

    [Fact]
    public async Task Fleet_counts_are_the_sums_of_the_shards()
    {
        // When the fleet summary is read over both shards, and over each alone
        var policies = new PolicyCatalog(store.Shards.Control);
        var fleet = await new FleetQueries(store.Shards, policies, TimeProvider.System).SummaryAsync();
        var each = await Task.WhenAll(store.Shards.All.Select(d => new FleetQueries(StoreShards.Single(d), policies, TimeProvider.System).SummaryAsync()));

        // Then every phase's count and flag counts are the two shards' sums, and the totals are every job
        Assert.Equal(Jobs.Count, fleet.Totals.Jobs);
        Assert.Equal(Jobs.Count(j => j.HeldByIssue), fleet.Totals.KnownIssue);
        Assert.All(each, e => Assert.True(e.Totals.Jobs > 0));
        foreach (var phase in Phases)
        {
            var count = fleet.Phases.Single(p => p.Phase == phase);
            Assert.Equal(Jobs.Count(j => j.Phase == phase), count.Jobs);
            Assert.Equal(each.Sum(e => e.Phases.SingleOrDefault(p => p.Phase == phase)?.Jobs ?? 0), count.Jobs);
            Assert.Equal(each.Sum(e => e.Phases.SingleOrDefault(p => p.Phase == phase)?.KnownIssue ?? 0), count.KnownIssue);
        }
    }

    [Theory]
    [MemberData(nameof(ListedJob.SortsAndOrders), MemberType = typeof(ListedJob))]
    public async Task The_jobs_list_pages_through_both_shards_in_order_each_job_once(string sort, string order)
    {
        var queries = Queries();
        foreach (var filter in ListedJob.Filters)
        {
            foreach (var size in new[] { 4, 7 })
            {
                // When the list is read a page at a time
                var seen = new List<string>();
                string? cursor = null;
                long? total = null;
                do
                {
                    var (query, problem) = JobListQuery.Parse(filter.Phase, filter.Flag, filter.Label, null, filter.Prefix, sort, order, size, cursor, count: true);
                    Assert.Null(problem);
                    var page = await queries.ListAsync(query!, CancellationToken.None);
                    total ??= page.Total;
                    Assert.True(page.Jobs.Count <= size);
                    Assert.False(page.MoreThanTotal);
                    seen.AddRange(page.Jobs.Select(j => j.JobId));
                    cursor = page.Next;
                }
                while (cursor is not null);

                // Then each matching job of both shards comes exactly once, in the sort's order, ties broken by id
                var expected = ListedJob.Expected(Jobs.Where(filter.Matches), sort, order == "desc");
                Assert.True(expected.SequenceEqual(seen), $"{filter.Name} by {sort} {order}, {size} a page: expected {string.Join(",", expected)}, got {string.Join(",", seen)}");
                Assert.Equal(expected.Count, total);
                Assert.Contains(seen, id => TwoShardStore.ShardOf(id) == 0);
                Assert.Contains(seen, id => TwoShardStore.ShardOf(id) == 1);
            }
        }
    }

    [Fact]
    public async Task Fleet_history_adds_up_each_shard_s_counts_hour_by_hour()
    {
        // Given each shard's history: shard 0 has hours 1 and 3, shard 1 hour 2
        var hour = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        await HistoryAsync(store.Shards.All[0], [(hour, "shadow", 3), (hour.AddHours(2), "shadow", 4)], [(hour, "promote", 2)]);
        await HistoryAsync(store.Shards.All[1], [(hour.AddHours(1), "shadow", 2), (hour.AddHours(1), "cleanup", 1)], [(hour, "promote", 5), (hour.AddHours(1), "demote", 1)]);

        // When the fleet's history is read
        var history = await new FleetHistoryQueries(store.Shards).HistoryAsync(48, CancellationToken.None);

        // Then each hour's count is the sum of each shard's latest count up to that hour, and the moves are added up
        Assert.Equal([hour, hour.AddHours(1), hour.AddHours(2)], history.Hours);
        Assert.Equal([3, 5, 6], history.Phases.Single(p => p.Phase == "shadow").Jobs);
        Assert.Equal([0, 1, 1], history.Phases.Single(p => p.Phase == "cleanup").Jobs);
        Assert.Equal([7, 0, 0], history.Moves.Single(m => m.Direction == "promote").Moves);
        Assert.Equal([0, 1, 0], history.Moves.Single(m => m.Direction == "demote").Moves);
    }

    [Fact]
    public async Task The_decision_feed_pages_through_both_shards_newest_decision_first_each_once()
    {
        // Given decisions on each shard, many decided at the same minute on both
        var at = new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
        var decisions = new List<(int Shard, long Position, DateTimeOffset DecidedAt, string Direction)>();
        foreach (var shard in Enumerable.Range(0, 2))
        {
            foreach (var i in Enumerable.Range(0, 11 + shard * 3))
            {
                decisions.Add((shard, 100 + i * (shard + 1), at.AddMinutes(i % 4), i % 3 == 0 ? "demote" : "promote"));
            }
        }
        foreach (var shard in Enumerable.Range(0, 2))
        {
            await using var batch = store.Shards.All[shard].CreateBatch();
            foreach (var d in decisions.Where(d => d.Shard == shard))
            {
                batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                    insert into fleet.decisions (global_position, event_id, job_id, from_phase, to_phase, direction, policy, policy_name, decided_at, recorded_at, reason)
                    values ($1, gen_random_uuid(), 'feed-job', 'shadow', 'cleanup', $2, 'p@1', 'p', $3, $3, 'test')
                    """)
                {
                    Parameters = { new NpgsqlParameter<long> { TypedValue = d.Position }, new NpgsqlParameter<string> { TypedValue = d.Direction }, new NpgsqlParameter<DateTimeOffset> { TypedValue = d.DecidedAt } },
                });
            }
            await batch.ExecuteNonQueryAsync();
        }
        var feed = new FleetHistoryQueries(store.Shards);
        foreach (var direction in new[] { null, "promote" })
        {
            // When the feed is read 4 decisions a page
            var seen = new List<(int Shard, long Position)>();
            long? before = null;
            do
            {
                var page = await feed.FeedAsync(new FeedFilter(direction, null, null, null, null, before, 4), CancellationToken.None);
                seen.AddRange(page.Decisions.Select(d => ((int)(d.Cursor % 2), d.Cursor / 2)));
                before = page.Next;
            }
            while (before is not null);

            // Then every decision of both shards comes once, newest decision time first (then shard, then log position)
            var expected = decisions.Where(d => direction is null || d.Direction == direction)
                .OrderByDescending(d => d.DecidedAt).ThenByDescending(d => d.Shard).ThenByDescending(d => d.Position).Select(d => (d.Shard, d.Position)).ToList();
            Assert.Equal(expected, seen);
        }
    }

    [Fact]
    public async Task An_override_of_a_job_is_appended_on_its_shard()
    {
        var writers = new JobWriters(store.Shards, TimeProvider.System);
        foreach (var job in new[] { Jobs.First(j => TwoShardStore.ShardOf(j.Id) == 0), Jobs.First(j => TwoShardStore.ShardOf(j.Id) == 1) })
        {
            // When an operator holds the job
            var writer = writers.OverridesFor(job.Id);
            await writer.SetAsync(job.Id, OverrideKind.Hold, null, "operator", "a test hold", null, CancellationToken.None);

            // Then the event is in the job's stream on its shard, and nowhere else
            Assert.Single(await store.Shards.StreamsOf(TwoShardStore.ShardOf(job.Id)).ReadStreamBackwardAsync(job.Id, long.MaxValue, 10, CancellationToken.None));
            Assert.Empty(await store.Shards.StreamsOf(1 - TwoShardStore.ShardOf(job.Id)).ReadStreamBackwardAsync(job.Id, long.MaxValue, 10, CancellationToken.None));
        }
    }

    static async Task<long> CountAsync(NpgsqlDataSource dataSource, string jobId)
    {
        await using var command = dataSource.CreateCommand("select count(*) from projections.job_states where job_id = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    static async Task HistoryAsync(
        NpgsqlDataSource dataSource, (DateTimeOffset Hour, string Phase, int Jobs)[] counts, (DateTimeOffset Hour, string Direction, int Moves)[] moves)
    {
        await using var batch = dataSource.CreateBatch();
        foreach (var (at, phase, jobs) in counts)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("insert into fleet.phase_history (hour, phase, jobs) values ($1, $2, $3) on conflict do nothing")
            {
                Parameters = { new NpgsqlParameter<DateTimeOffset> { TypedValue = at }, new NpgsqlParameter<string> { TypedValue = phase }, new NpgsqlParameter<int> { TypedValue = jobs } },
            });
        }
        foreach (var (at, direction, count) in moves)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("insert into fleet.moves_per_hour (hour, direction, policy, moves) values ($1, $2, 'p', $3) on conflict do nothing")
            {
                Parameters = { new NpgsqlParameter<DateTimeOffset> { TypedValue = at }, new NpgsqlParameter<string> { TypedValue = direction }, new NpgsqlParameter<int> { TypedValue = count } },
            });
        }
        await batch.ExecuteNonQueryAsync();
    }
}
