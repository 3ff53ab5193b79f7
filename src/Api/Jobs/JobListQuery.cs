using System.Globalization;
using System.Text;
using System.Text.Json;
using Streaming.Api.Fleet;
using Streaming.Api.Problems;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Streaming.Api.Jobs;

/// <summary>
/// A page of the jobs list: filters (phase, flag, label <c>name=value</c>, policy name, id prefix, and a hold:
/// <c>silent</c>, <c>awaiting-approval</c> (not approved yet) or <c>paused</c> (an operator's pause covers its next gate)), a sort
/// (<c>id</c>, <c>since</c>, <c>signal</c>, <c>changes</c>; <c>asc</c> or <c>desc</c>), and a keyset cursor: the page
/// after the last row of the previous one, so every page costs the same however deep. Each sort walks an index of its
/// own (migration 50), the last-signal one that of the narrow <c>projections.job_signals</c>; <see cref="Count"/> (how
/// many match, on the first page) stops at <see cref="CountLimit"/>.
/// </summary>
public sealed record JobListQuery(
    string? Phase, string? Flag, string? LabelName, string? LabelValue, string? Policy, string? Prefix, string Sort, bool Descending, int Limit,
    JobCursor? After, bool Count = false, string? State = null)
{
    public const int MaxLimit = 500;

    public const string Silent = "silent";
    public const string AwaitingApproval = "awaiting-approval";
    public const string Paused = "paused";

    /// <summary>The holds the list can be filtered by (<c>state</c>).</summary>
    public static IReadOnlyList<string> States { get; } = [Silent, AwaitingApproval, Paused];

    public const int CountLimit = 1_000;

    const string JobStates = "projections.job_states";

    // Each sort's expression and the id that breaks its ties, as its index orders them, and the rows it reads them from.
    static readonly Dictionary<string, (string Column, string Tie, string Source)> Sorts = new(StringComparer.Ordinal)
    {
        ["id"] = ("job_id", "job_id", JobStates),
        ["since"] = ("coalesce(phase_since, '-infinity'::timestamptz)", "job_id", JobStates),
        ["signal"] = ("coalesce(signal_at, '-infinity'::timestamptz)", "signal_job",
            "(select job_id as signal_job, last_signal_at as signal_at from projections.job_signals) signals join " + JobStates + " on job_id = signal_job"),
        ["changes"] = ("phase_changes", "job_id", JobStates),
    };

    public string SortColumn => Sorts[Sort].Column;

    public string TieColumn => Sorts[Sort].Tie;

    public string Source => Sorts[Sort].Source;

    public static (JobListQuery? Query, ValidationProblem? Problem) Parse(
        string? phase, string? flag, string? label, string? policy, string? prefix, string? sort, string? order, int? limit, string? cursor, bool count = false,
        string? state = null)
    {
        if (state is not null && !States.Contains(state))
        {
            return (null, ApiProblems.Field("state", $"unknown state '{state}'; known: {string.Join(", ", States)}"));
        }
        if (flag is not null && !FleetFlags.Known.Contains(flag) && !flag.StartsWith("known-issue:", StringComparison.Ordinal))
        {
            return (null, ApiProblems.Field("flag", $"unknown flag '{flag}'; known: {string.Join(", ", FleetFlags.Known.Order())}"));
        }
        string? labelName = null, labelValue = null;
        if (label is not null)
        {
            if (label.Split('=', 2) is not [var name, var value] || name.Length == 0)
            {
                return (null, ApiProblems.Field("label", "expected NAME=VALUE"));
            }
            (labelName, labelValue) = (name, value);
        }
        sort ??= "id";
        if (!Sorts.ContainsKey(sort))
        {
            return (null, ApiProblems.Field("sort", $"one of {string.Join(", ", Sorts.Keys)}"));
        }
        if (order is not (null or "asc" or "desc"))
        {
            return (null, ApiProblems.Field("order", "asc or desc"));
        }
        if (limit is < 1 or > MaxLimit)
        {
            return (null, ApiProblems.Field("limit", $"between 1 and {MaxLimit}"));
        }
        JobCursor? after = null;
        if (cursor is not null && (after = JobCursor.Decode(cursor)) is null)
        {
            return (null, ApiProblems.Field("cursor", "not a cursor this API returned"));
        }
        if (after is not null && after.Sort != sort)
        {
            return (null, ApiProblems.Field("cursor", $"made for sort '{after.Sort}', not '{sort}'"));
        }
        return (new JobListQuery(Blank(phase), flag, labelName, labelValue, Blank(policy), Blank(prefix), sort, order == "desc", limit ?? 50, after, count, state), null);
    }

    static string? Blank(string? value) => string.IsNullOrEmpty(value) ? null : value;
}

/// <summary>Where a page of the jobs list ended: the sort, the last row's sort value and its job id.</summary>
public sealed record JobCursor(string Sort, string Value, string JobId)
{
    public string Encode() =>
        Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(new[] { Sort, Value, JobId })).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public static JobCursor? Decode(string text)
    {
        try
        {
            var padded = text.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            return JsonSerializer.Deserialize<string[]>(Encoding.UTF8.GetString(Convert.FromBase64String(padded))) is [var sort, var value, var job]
                && Valid(sort, value) ? new JobCursor(sort, value, job) : null;
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
    }

    static bool Valid(string sort, string value) => sort switch
    {
        "id" => true,
        "since" or "signal" => DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out _),
        "changes" => int.TryParse(value, CultureInfo.InvariantCulture, out _),
        _ => false,
    };
}
