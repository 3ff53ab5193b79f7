using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Streaming.Api.Auth;
using Streaming.Api.Jobs;
using Streaming.Api.Policies;
using Streaming.Api.Problems;
using Streaming.Api.Shards;
using Streaming.Api.Writes;
using Streaming.Contracts.History;
using Streaming.Contracts.Signals;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Promoter.Approvals;

namespace Streaming.Api.Approvals;

/// <summary>
/// Approval gates: the jobs waiting per gate (viewer), and approving one job or a batch by selector (operator). Each
/// approval is an <c>approval-granted/v1</c> event in the job's stream with the signed-in principal as the actor; a bad
/// request is refused with a 4xx naming the field before anything is written.
/// </summary>
public static class ApprovalEndpoints
{
    const int MaxBody = 16 * 1024;

    /// <summary>The most jobs one batch approval may approve.</summary>
    public const int MostBatch = 10_000;

    const int ListedJobs = 100;

    public static void MapApprovalEndpoints(this IEndpointRouteBuilder routes)
    {
        var reads = routes.MapGroup("/api/v1").WithTags("Approvals").RequireAuthorization(ApiRoles.Viewer);
        reads.MapGet("/approvals", GatesAsync).WithSummary("Jobs waiting for approval, per policy and gate");
        reads.MapGet("/jobs/{jobId}/approvals", JobAsync).WithSummary("The approval a job waits for, with its evidence, and its approval events");
        var writes = routes.MapGroup("/api/v1").WithTags("Approvals").RequireAuthorization(ApiRoles.Operator).AddEndpointFilter<CsrfCheck>();
        BodyLimit.Limit(writes.MapPost("/jobs/{jobId}/approve", ApproveAsync), MaxBody).WithSummary("Approves the move one job waits for");
        BodyLimit.Limit(writes.MapPost("/approvals", ApproveBatchAsync), MaxBody)
            .WithSummary("Approves the jobs waiting for approval that a selector matches, up to a cap (dryRun: only counts them)");
    }

    static async Task<Ok<IReadOnlyList<ApprovalGateCount>>> GatesAsync(ApprovalQueries approvals, CancellationToken cancellationToken) =>
        TypedResults.Ok(await approvals.GatesAsync(cancellationToken));

    static async Task<Results<Ok<JobApprovals>, ProblemHttpResult>> JobAsync(string jobId, JobQueries jobs, ApprovalQueries approvals, CancellationToken cancellationToken) =>
        !ControlStreams.IsControl(jobId) && await jobs.RowAsync(jobId, cancellationToken) is { } row
            ? TypedResults.Ok(await approvals.JobAsync(jobId, row.Flags.Contains(LifecycleFlags.AwaitingApproval), cancellationToken))
            : ApiProblems.NotFound($"no job '{jobId}'");

    static async Task<Results<Created<ApprovalGranted>, ValidationProblem, ProblemHttpResult>> ApproveAsync(
        HttpContext http, string jobId, JobQueries jobs, PolicyCatalog policies, JobWriters writer)
    {
        var body = await JsonBody.ReadAsync<ApproveRequest>(http.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }
        if (WriteEndpoints.Reason(body.Value!.Reason) is { } badReason)
        {
            return badReason;
        }
        if (ControlStreams.IsControl(jobId) || await jobs.RowAsync(jobId, http.RequestAborted) is not { } row)
        {
            return ApiProblems.NotFound($"no job '{jobId}'");
        }
        if (!row.Flags.Contains(LifecycleFlags.AwaitingApproval))
        {
            return ApiProblems.Conflict($"job '{jobId}' is not waiting for approval");
        }
        if (row.Flags.Contains(LifecycleFlags.Approved))
        {
            return ApiProblems.Conflict($"job '{jobId}' is approved already; the move is made at its next signal while the criteria hold");
        }
        if ((await policies.FindAsync(row.Policy, http.RequestAborted))?.NextPhase(row.Phase) is not { } next)
        {
            return ApiProblems.Conflict($"job '{jobId}' in {row.Phase} has no phase to move to under {row.Policy}");
        }
        var granted = await writer.GrantAsync([new ApprovalTarget(jobId, row.Phase, next)], http.User.Actor(), body.Value.Reason!.Trim(),
            ApprovalGranted.OneJob, http.RequestAborted);
        return TypedResults.Created($"/api/v1/jobs/{Uri.EscapeDataString(jobId)}", granted[0]);
    }

    static async Task<Results<Ok<BatchApprovalResult>, ValidationProblem, ProblemHttpResult>> ApproveBatchAsync(
        HttpContext http, ApprovalQueries approvals, PolicyCatalog policies, JobWriters writer)
    {
        var body = await JsonBody.ReadAsync<BatchApprovalRequest>(http.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }
        var request = body.Value!;
        var dryRun = request.DryRun ?? false;
        if (!dryRun && WriteEndpoints.Reason(request.Reason) is { } badReason)
        {
            return badReason;
        }
        if (request.Max is not { } max || max < 1 || max > MostBatch)
        {
            return ApiProblems.Field("max", $"required: the most jobs to approve, 1 to {MostBatch}; more matching is refused");
        }
        var labels = request.Labels ?? new Dictionary<string, string>();
        if (labels.Count > JobSignalReader.MostLabels || labels.Any(l => string.IsNullOrWhiteSpace(l.Key) || l.Key.Length > 128 || l.Value is null || l.Value.Length > 1024))
        {
            return ApiProblems.Field("labels", $"at most {JobSignalReader.MostLabels} labels; names not blank and up to 128 characters, values present and up to 1024");
        }
        var policy = Blank(request.Policy);
        var phase = Blank(request.Phase);
        if (policy is null && phase is null && labels.Count == 0)
        {
            return ApiProblems.Field("selector", "a batch approval names a policy, a phase, labels, or several of them");
        }
        if (policy?.Length > 200 || phase?.Length > 200)
        {
            return ApiProblems.Field(policy?.Length > 200 ? "policy" : "phase", "at most 200 characters");
        }
        var matched = await approvals.MatchAsync(policy, phase, labels, MostBatch + 1, http.RequestAborted);
        var scope = Scope(policy, phase, labels);
        var listed = matched.Take(ListedJobs).Select(j => j.JobId).ToList();
        if (dryRun)
        {
            return TypedResults.Ok(new BatchApprovalResult(scope, matched.Count, true, 0, listed));
        }
        if (matched.Count > max)
        {
            return ApiProblems.Conflict($"{(matched.Count > MostBatch ? "more than " + MostBatch.ToString(CultureInfo.InvariantCulture) : matched.Count.ToString(CultureInfo.InvariantCulture))} " +
                $"jobs match {scope}, more than max {max}: narrow the selector or raise max");
        }
        var targets = new List<ApprovalTarget>(matched.Count);
        foreach (var job in matched)
        {
            if ((await policies.FindAsync(job.Policy, http.RequestAborted))?.NextPhase(job.Phase) is { } next)
            {
                targets.Add(new ApprovalTarget(job.JobId, job.Phase, next));
            }
        }
        var granted = await writer.GrantAsync(targets, http.User.Actor(), request.Reason!.Trim(), scope, http.RequestAborted);
        return TypedResults.Ok(new BatchApprovalResult(scope, matched.Count, false, granted.Count, listed));
    }

    static string Scope(string? policy, string? phase, IReadOnlyDictionary<string, string> labels)
    {
        var parts = new List<string>();
        if (policy is not null)
        {
            parts.Add("policy=" + policy);
        }
        if (phase is not null)
        {
            parts.Add("phase=" + phase);
        }
        parts.AddRange(labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"label {l.Key}={l.Value}"));
        return "batch: " + string.Join(", ", parts);
    }

    static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text.Trim();
}
