using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Streaming.Api.Auth;
using Streaming.Api.Jobs;
using Streaming.Api.Policies;
using Streaming.Api.Problems;
using Streaming.Api.Shards;
using Streaming.Contracts.History;
using Streaming.Contracts.Signals;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Promoter.Fleet;

namespace Streaming.Api.Writes;

/// <summary>
/// The operator's writes: overrides, known issues and breaker resets (operator). Each becomes exactly the event the
/// command line writes, through the same writers, with the signed-in principal as the actor. A bad request is refused
/// with a 400 naming the field before anything is written.
/// </summary>
public static partial class WriteEndpoints
{
    const int MaxReason = 1_000;
    const int MostIssueJobs = 10_000;

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    private static partial Regex KnownIssueId();

    // Control characters end or fake a line; format characters (U+202E and the other bidirectional controls,
    // zero-width ones) make a title read differently from what it holds.
    static bool HasHiddenCharacters(string text) =>
        text.Any(c => char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);

    public static void MapWriteEndpoints(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1").WithTags("Operator").RequireAuthorization(ApiRoles.Operator).AddEndpointFilter<CsrfCheck>();
        api.MapPost("/jobs/{jobId}/overrides", OverrideAsync).WithSummary("Holds, releases, pins or forces a job");
        api.MapPost("/known-issues", OpenIssueAsync).WithSummary("Opens a known issue: its jobs are not promoted while it is open");
        api.MapPost("/known-issues/{issueId}/resolve", ResolveIssueAsync).WithSummary("Resolves a known issue");
        api.MapPost("/breakers/{policy}/{phase}/reset", ResetBreakerAsync).WithSummary("Asks to close a phase's circuit breaker");
    }

    static async Task<Results<Created<OverrideSet>, ValidationProblem, ProblemHttpResult>> OverrideAsync(
        HttpContext http, string jobId, JobQueries jobs, PolicyCatalog policies, JobWriters writers)
    {
        var body = await JsonBody.ReadAsync<OverrideRequest>(http.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }
        var request = body.Value!;
        if (!OverrideKinds.TryParse(request.Kind, out var kind))
        {
            return ApiProblems.Field("kind", "one of hold, release, pin, force-promote, force-demote");
        }
        if (Reason(request.Reason) is { } badReason)
        {
            return badReason;
        }
        if (await jobs.RowAsync(jobId, http.RequestAborted) is not { } row)
        {
            return ApiProblems.NotFound($"no job '{jobId}'");
        }
        if (kind == OverrideKind.Pin)
        {
            var policy = await policies.FindAsync(row.Policy, http.RequestAborted);
            if (string.IsNullOrWhiteSpace(request.Phase))
            {
                return ApiProblems.Field("phase", "a pin needs the phase to pin the job to");
            }
            if (policy is not null && !policy.HasPhase(request.Phase))
            {
                return ApiProblems.Field("phase", $"'{request.Phase}' is not a phase of {policy.Id}: {string.Join(", ", policy.Phases)}");
            }
        }
        else if (request.Phase is not null)
        {
            return ApiProblems.Field("phase", "only a pin takes a phase");
        }
        TimeSpan? lasting = null;
        if (request.For is not null)
        {
            if (kind is not (OverrideKind.Hold or OverrideKind.Pin))
            {
                return ApiProblems.Field("for", $"only a hold or a pin lasts; {request.Kind} acts once");
            }
            if (!PolicyDurations.TryParse(request.For, out var duration) || duration <= TimeSpan.Zero)
            {
                return ApiProblems.Field("for", $"'{request.For}' is not a duration ({PolicyDurations.Rule})");
            }
            lasting = duration;
        }
        var writer = writers.OverridesFor(jobId);
        var set = await writer.SetAsync(jobId, kind, request.Phase, http.User.Actor(), request.Reason!.Trim(), lasting, http.RequestAborted);
        return TypedResults.Created($"/api/v1/jobs/{Uri.EscapeDataString(jobId)}", set);
    }

    static async Task<Results<Created<KnownIssueOpened>, ValidationProblem, ProblemHttpResult>> OpenIssueAsync(HttpContext http, FleetWriter writer)
    {
        var body = await JsonBody.ReadAsync<KnownIssueRequest>(http.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }
        var request = body.Value!;
        if (string.IsNullOrWhiteSpace(request.Id) || request.Id.Length > 100 || !KnownIssueId().IsMatch(request.Id) || request.Id.Contains("..", StringComparison.Ordinal))
        {
            return ApiProblems.Field("id", "required: up to 100 letters, digits, '.', '_' or '-', starting with a letter or digit, no '..'");
        }
        if (string.IsNullOrWhiteSpace(request.Title) || request.Title.Length > 300 || HasHiddenCharacters(request.Title))
        {
            return ApiProblems.Field("title", "required: up to 300 characters, no control or bidirectional-formatting characters");
        }
        var jobIds = request.Jobs ?? [];
        var labels = request.Labels ?? new Dictionary<string, string>();
        if (jobIds.Count > MostIssueJobs)
        {
            return ApiProblems.Field("jobs", $"at most {MostIssueJobs} jobs; name more with a label selector");
        }
        if (jobIds.Any(id => string.IsNullOrWhiteSpace(id) || id.Length > 256 || HasHiddenCharacters(id) || ControlStreams.IsControl(id)))
        {
            return ApiProblems.Field("jobs", "job ids must not be blank, longer than 256 characters, hold control or bidirectional-formatting characters, or name a control stream");
        }
        if (labels.Count > JobSignalReader.MostLabels
            || labels.Any(l => string.IsNullOrWhiteSpace(l.Key) || l.Key.Length > 128 || (l.Value?.Length ?? 0) > 1024 || HasHiddenCharacters(l.Key) || HasHiddenCharacters(l.Value ?? "")))
        {
            return ApiProblems.Field("labels", $"at most {JobSignalReader.MostLabels} labels; names not blank and up to 128 characters, values up to 1024, no control or bidirectional-formatting characters");
        }
        if (jobIds.Count == 0 && labels.Count == 0)
        {
            return ApiProblems.Field("jobs", "a known issue names its jobs, a label selector (labels), or both");
        }
        try
        {
            var opened = await writer.OpenIssueAsync(request.Id, request.Title.Trim(), jobIds, labels, http.User.Actor(), http.RequestAborted);
            return TypedResults.Created($"/api/v1/known-issues/{Uri.EscapeDataString(opened.IssueId)}", opened);
        }
        catch (WrongExpectedVersionException)
        {
            return ApiProblems.Conflict($"a known issue '{request.Id}' exists already");
        }
    }

    static async Task<Results<Ok<KnownIssueResolved>, ValidationProblem, ProblemHttpResult>> ResolveIssueAsync(HttpContext http, string issueId, FleetWriter writer)
    {
        var body = await JsonBody.ReadAsync<ReasonRequest>(http.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }
        if (Reason(body.Value!.Reason) is { } badReason)
        {
            return badReason;
        }
        try
        {
            return TypedResults.Ok(await writer.ResolveIssueAsync(issueId, http.User.Actor(), body.Value.Reason!.Trim(), http.RequestAborted));
        }
        catch (WrongExpectedVersionException)
        {
            return ApiProblems.Conflict($"no open known issue '{issueId}'");
        }
    }

    static async Task<Results<Ok<CircuitBreakerResetRequested>, ValidationProblem, ProblemHttpResult>> ResetBreakerAsync(
        HttpContext http, string policy, string phase, PolicyCatalog policies, FleetWriter writer)
    {
        var body = await JsonBody.ReadAsync<ReasonRequest>(http.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }
        if (Reason(body.Value!.Reason) is { } badReason)
        {
            return badReason;
        }
        var versions = (await policies.AllAsync(http.RequestAborted)).Where(p => p.Name == policy).ToList();
        if (versions.Count == 0)
        {
            return ApiProblems.NotFound($"no policy '{policy}'");
        }
        if (PolicyDocument.Parse(versions[^1].Text, versions[^1].Version).Policy is { } latest && !latest.HasPhase(phase))
        {
            return ApiProblems.Field("phase", $"'{phase}' is not a phase of {latest.Id}");
        }
        return TypedResults.Ok(await writer.ResetBreakerAsync(policy, phase, http.User.Actor(), body.Value.Reason!.Trim(), http.RequestAborted));
    }

    internal static ValidationProblem? Reason(string? reason) =>
        string.IsNullOrWhiteSpace(reason) ? ApiProblems.Field("reason", "required: every change says why")
        : reason.Length > MaxReason ? ApiProblems.Field("reason", $"at most {MaxReason} characters")
        : null;
}
