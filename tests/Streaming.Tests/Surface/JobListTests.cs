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
    static readonly string[] Phases = ["shadow", "reverse_shadow", "cleanup"];

    sealed record Job(string Id, string Phase, DateTimeOffset? Since, DateTimeOffset? Signal, int Changes, string Team, bool HeldByIssue);

    // Ties on every sort key (and jobs with no time at all), so the pages must break them by id.
    static readonly IReadOnlyList<Job> Jobs = [.. Enumerable.Range(0, 61).Select(i => new Job(
        $"job-{(i % 2 == 0 ? "a" : "b")}-{i:00}",
        Phases[i % 3],
        i % 10 == 0 ? null : Start.AddMinutes(i % 7),
        i % 9 == 0 ? null : Start.AddSeconds(i % 5),
        i % 4,
        i % 3 == 1 ? "orders" : "billing",
        i % 5 == 0))];

    public static TheoryData<string, string> SortsAndOrders()
    {
        var data = new TheoryData<string, string>();
        foreach (var sort in new[] { "id", "since", "signal", "changes" })
        {
            data.Add(sort, "asc");
            data.Add(sort, "desc");
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(SortsAndOrders))]
    public async Task Each_filter_pages_through_every_matching_job_once_in_order_while_the_rows_are_rewritten(string sort, string order)
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            // Given the jobs' rows as the Projector writes them
            await StoreSchema.MigrateAsync(dataSource, CancellationToken.None);
            var generation = await new JobStateGenerations(dataSource).EnsureActiveAsync(CancellationToken.None);
            await WriteAsync(dataSource, generation, Jobs, version: 1);
            var queries = new JobQueries(dataSource, new EventStreams(dataSource), new PolicyCatalog(dataSource), new GateQueries(dataSource, new PolicyCatalog(dataSource)));
            (string Name, Func<Job, bool> Matches, string? Phase, string? Flag, string? Label, string? Prefix)[] filters =
            [
                ("none", _ => true, null, null, null, null),
                ("phase", j => j.Phase == "reverse_shadow", "reverse_shadow", null, null, null),
                ("flag", j => j.HeldByIssue, null, LifecycleFlags.KnownIssue, null, null),
                ("label", j => j.Team == "orders", null, null, "team=orders", null),
                ("prefix", j => j.Id.StartsWith("job-b-", StringComparison.Ordinal), null, null, null, "job-b-"),
            ];

            foreach (var filter in filters)
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
                    await WriteAsync(dataSource, generation, Jobs, version++);
                }
                while (cursor is not null);

                // Then each matching job comes exactly once, in the sort's order, ties broken by id
                var expected = Expected(Jobs.Where(filter.Matches), sort, order == "desc");
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
            var generation = await new JobStateGenerations(dataSource).EnsureActiveAsync(CancellationToken.None);
            var many = Enumerable.Range(0, JobListQuery.CountLimit + 5)
                .Select(i => new Job($"bulk-{i:0000}", "shadow", Start, Start.AddSeconds(i), 0, "orders", false)).ToList();
            await WriteAsync(dataSource, generation, many, version: 1);
            var queries = new JobQueries(dataSource, new EventStreams(dataSource), new PolicyCatalog(dataSource), new GateQueries(dataSource, new PolicyCatalog(dataSource)));

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

    static List<string> Expected(IEnumerable<Job> jobs, string sort, bool descending)
    {
        var keyed = jobs.Select(j => (Key: sort switch
        {
            "since" => (j.Since ?? DateTimeOffset.MinValue).UtcTicks,
            "signal" => (j.Signal ?? DateTimeOffset.MinValue).UtcTicks,
            "changes" => j.Changes,
            _ => 0L,
        }, j.Id));
        var ordered = keyed.OrderBy(k => k.Key).ThenBy(k => k.Id, StringComparer.Ordinal).Select(k => k.Id).ToList();
        if (descending)
        {
            ordered.Reverse();
        }
        return ordered;
    }

    static async Task WriteAsync(NpgsqlDataSource dataSource, JobStateGeneration generation, IReadOnlyList<Job> jobs, long version)
    {
        var views = jobs.Select(j => new KeyValuePair<string, JobStateView>(j.Id, new JobStateView(
            JobLifecycleDecider.Initial(j.Id) with
            {
                AssignedPhase = j.Phase,
                PhaseSince = j.Since,
                LastSignalAt = j.Signal,
                LastReportedPhase = j.Phase,
                PhaseChanges = j.Changes,
                LastSeq = version,
            },
            new Dictionary<string, string> { ["team"] = j.Team },
            null, null, version))).ToList();
        var rows = JobStateRows.From(views, view => new JobContext(null, jobs.First(j => j.Id == view.Lifecycle.JobId).HeldByIssue ? ["issue-1"] : []));
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await rows.WriteAsync(transaction, generation, CancellationToken.None);
        await transaction.CommitAsync();
    }
}
