using Npgsql;
using Streaming.Lifecycle;
using Streaming.Projector.JobStates;

namespace Streaming.Tests.Surface;

/// <summary>A job of the jobs-list tests: what each sort and filter reads, written as the Projector writes its row.</summary>
public sealed record ListedJob(string Id, string Phase, DateTimeOffset? Since, DateTimeOffset? Signal, int Changes, string Team, bool HeldByIssue)
{
    static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
    static readonly string[] Phases = ["shadow", "reverse_shadow", "cleanup"];

    /// <summary>
    /// <paramref name="count"/> jobs with ties on every sort key (and jobs with no time at all), so pages must break them by id;
    /// every fifth held by a known issue, every third of team orders.
    /// </summary>
    public static IReadOnlyList<ListedJob> Many(int count) => [.. Enumerable.Range(0, count).Select(i => new ListedJob(
        $"job-{(i % 2 == 0 ? "a" : "b")}-{i:00}",
        Phases[i % 3],
        i % 10 == 0 ? null : Start.AddMinutes(i % 7),
        i % 9 == 0 ? null : Start.AddSeconds(i % 5),
        i % 4,
        i % 3 == 1 ? "orders" : "billing",
        i % 5 == 0))];

    /// <summary>Each filter of the list, with the jobs it matches: none, a phase, a flag, a label and an id prefix.</summary>
    public static IReadOnlyList<(string Name, Func<ListedJob, bool> Matches, string? Phase, string? Flag, string? Label, string? Prefix)> Filters { get; } =
    [
        ("none", _ => true, null, null, null, null),
        ("phase", j => j.Phase == "reverse_shadow", "reverse_shadow", null, null, null),
        ("flag", j => j.HeldByIssue, null, LifecycleFlags.KnownIssue, null, null),
        ("label", j => j.Team == "orders", null, null, "team=orders", null),
        ("prefix", j => j.Id.StartsWith("job-b-", StringComparison.Ordinal), null, null, null, "job-b-"),
    ];

    /// <summary>Every sort, ascending and descending.</summary>
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

    /// <summary>The ids in the order the list's <paramref name="sort"/> puts them, ties broken by id.</summary>
    public static List<string> Expected(IEnumerable<ListedJob> jobs, string sort, bool descending)
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

    /// <summary>Writes the jobs' rows, at <paramref name="version"/>, into the active generation of the job states.</summary>
    public static async Task WriteAsync(NpgsqlDataSource dataSource, IReadOnlyList<ListedJob> jobs, long version)
    {
        var generation = await new JobStateGenerations(dataSource).EnsureActiveAsync(CancellationToken.None);
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
