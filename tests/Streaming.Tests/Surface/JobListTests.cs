using Npgsql;
using Streaming.Api.Fleet;
using Streaming.Api.Jobs;
using Streaming.Cli;
using Streaming.EventStore;
using Streaming.Api.Policies;
using Streaming.Lifecycle;
using Streaming.Projector.JobStates;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>The jobs list against the job-state rows the Projector writes: every sort and filter of the fleet page, a page at a time.</summary>
public sealed class JobListTests
{
    static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
    static readonly IReadOnlyList<ListedJob> Jobs = ListedJob.Many(61);

    [Theory]
    [MemberData(nameof(ListedJob.SortsAndOrders), MemberType = typeof(ListedJob))]
    public async Task Each_filter_pages_through_every_matching_job_once_in_order_while_the_rows_are_rewritten(string sort, string order)
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            // Given the jobs' rows as the Projector writes them
            await StoreSchema.MigrateAsync(dataSource, CancellationToken.None);
            await ListedJob.WriteAsync(dataSource, Jobs, version: 1);
            var queries = new JobQueries(StoreShards.Single(dataSource), new PolicyCatalog(dataSource), new GateQueries(StoreShards.Single(dataSource), new PolicyCatalog(dataSource)));

            foreach (var filter in ListedJob.Filters)
            {
                // When the list is read 4 jobs a page, every row rewritten (same sort keys, a later version) between pages
                var seen = new List<string>();
                string? cursor = null;
                long? total = null;
                var version = 2;
                do
                {
                    var (query, problem) = JobListQuery.Parse(filter.Phase, filter.Flag, filter.Label, null, filter.Prefix, sort, order, 4, cursor, count: true);
                    Assert.Null(problem);
                    var page = await queries.ListAsync(query!, CancellationToken.None);
                    total ??= page.Total;
                    Assert.True(cursor is not null || page.Total is not null, "the first page counts the matching jobs");
                    Assert.False(page.MoreThanTotal);
                    seen.AddRange(page.Jobs.Select(j => j.JobId));
                    cursor = page.Next;
                    await ListedJob.WriteAsync(dataSource, Jobs, version++);
                }
                while (cursor is not null);

                // Then each matching job comes exactly once, in the sort's order, ties broken by id
                var expected = ListedJob.Expected(Jobs.Where(filter.Matches), sort, order == "desc");
                Assert.True(expected.SequenceEqual(seen), $"{filter.Name} by {sort} {order}: expected {string.Join(",", expected)}, got {string.Join(",", seen)}");
                Assert.Equal(expected.Count, total);
            }
        });
    }

    [Fact]
    public async Task A_large_match_is_counted_up_to_the_bound_and_says_more_match()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            // Given more jobs than the count's bound
            await StoreSchema.MigrateAsync(dataSource, CancellationToken.None);
            var many = Enumerable.Range(0, JobListQuery.CountLimit + 5)
                .Select(i => new ListedJob($"bulk-{i:0000}", "shadow", Start, Start.AddSeconds(i), 0, "orders", false)).ToList();
            await ListedJob.WriteAsync(dataSource, many, version: 1);
            var queries = new JobQueries(StoreShards.Single(dataSource), new PolicyCatalog(dataSource), new GateQueries(StoreShards.Single(dataSource), new PolicyCatalog(dataSource)));

            // When the first page is asked for with its count, and again for a small match
            var (all, _) = JobListQuery.Parse(null, null, null, null, null, "signal", "desc", 10, null, count: true);
            var page = await queries.ListAsync(all!, CancellationToken.None);
            var (few, _) = JobListQuery.Parse(null, null, null, null, "bulk-000", "id", "asc", 10, null, count: true);
            var small = await queries.ListAsync(few!, CancellationToken.None);

            // Then the large one says "the bound, and more", newest signal first; the small one is exact
            Assert.Equal(JobListQuery.CountLimit, page.Total);
            Assert.True(page.MoreThanTotal);
            Assert.Equal($"bulk-{JobListQuery.CountLimit + 4:0000}", page.Jobs[0].JobId);
            Assert.Equal(10, small.Total);
            Assert.False(small.MoreThanTotal);
        });
    }
}
