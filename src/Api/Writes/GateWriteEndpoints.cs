using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Streaming.Api.Auth;
using Streaming.Api.Policies;
using Streaming.Api.Problems;
using Streaming.Contracts.History;
using Streaming.Lifecycle;
using Streaming.Promoter.Fleet;

namespace Streaming.Api.Writes;

/// <summary>
/// The operator's stops (operator): pausing and resuming promotions of a gate, a policy or the fleet, and tripping a
/// phase's circuit breaker by hand. Each is an event in a control stream, carried out by the Promoter in its place in
/// the log; a bad request is refused with a 400 naming the field before anything is written.
/// </summary>
public static class GateWriteEndpoints
{
    const int MaxReason = 1_000;

    /// <summary>The longest pause given a duration: a longer one is a pause until resumed.</summary>
    public static readonly TimeSpan LongestPause = TimeSpan.FromDays(30);

    public static void MapGateWriteEndpoints(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1").WithTags("Operator").RequireAuthorization(ApiRoles.Operator).AddEndpointFilter<CsrfCheck>();
        api.MapPost("/pauses", PauseAsync).WithSummary("Pauses promotions of the fleet, a policy, or into one phase of a policy");
        api.MapPost("/pauses/resume", ResumeAsync).WithSummary("Resumes promotions an operator paused");
        api.MapPost("/breakers/{policy}/{phase}/trip", TripAsync).WithSummary("Opens a phase's circuit breaker by hand, until someone resets it");
    }

    static async Task<Results<Created<PromotionsPaused>, ValidationProblem, ProblemHttpResult>> PauseAsync(HttpContext http, PolicyCatalog policies, PauseWriter writer)
    {
        var body = await JsonBody.ReadAsync<PauseRequest>(http.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }
        var request = body.Value!;
        if (Reason(request.Reason) is { } badReason)
        {
            return badReason;
        }
        TimeSpan? lasting = null;
        if (request.For is not null)
        {
            if (!PolicyDurations.TryParse(request.For, out var duration) || duration <= TimeSpan.Zero || duration > LongestPause)
            {
                return ApiProblems.Field("for", $"'{request.For}' is not a duration from 1s to 30d (for example 90m, 4h, 2d)");
            }
            lasting = duration;
        }
        if (await ScopeAsync(request.Policy, request.Phase, policies, http.RequestAborted) is { } badScope)
        {
            return badScope;
        }
        var paused = await writer.PauseAsync(Blank(request.Policy), Blank(request.Phase), http.User.Actor(), request.Reason!.Trim(), lasting, http.RequestAborted);
        return TypedResults.Created("/api/v1/gates", paused);
    }

    static async Task<Results<Ok<PromotionsResumed>, ValidationProblem, ProblemHttpResult>> ResumeAsync(HttpContext http, PolicyCatalog policies, PauseWriter writer)
    {
        var body = await JsonBody.ReadAsync<ResumeRequest>(http.Request);
        if (body.Problem is { } problem)
        {
            return problem;
        }
        var request = body.Value!;
        if (Reason(request.Reason) is { } badReason)
        {
            return badReason;
        }
        if (await ScopeAsync(request.Policy, request.Phase, policies, http.RequestAborted) is { } badScope)
        {
            return badScope;
        }
        return TypedResults.Ok(await writer.ResumeAsync(Blank(request.Policy), Blank(request.Phase), http.User.Actor(), request.Reason!.Trim(), http.RequestAborted));
    }

    static async Task<Results<Ok<CircuitBreakerTripRequested>, ValidationProblem, ProblemHttpResult>> TripAsync(
        HttpContext http, string policy, string phase, PolicyCatalog policies, PauseWriter writer)
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
        if (await ScopeAsync(policy, phase, policies, http.RequestAborted) is { } badScope)
        {
            return badScope;
        }
        return TypedResults.Ok(await writer.TripBreakerAsync(policy, phase, http.User.Actor(), body.Value.Reason!.Trim(), http.RequestAborted));
    }

    // A phase needs its policy, and must be one a gate leads into in the policy's latest version.
    static async Task<ValidationProblem?> ScopeAsync(string? policy, string? phase, PolicyCatalog policies, CancellationToken cancellationToken)
    {
        if (Blank(policy) is null)
        {
            return Blank(phase) is null ? null : ApiProblems.Field("policy", "a phase is paused within its policy: name the policy too");
        }
        var versions = (await policies.AllAsync(cancellationToken)).Where(p => p.Name == policy).ToList();
        if (versions.Count == 0)
        {
            return ApiProblems.Field("policy", $"no policy '{policy}'");
        }
        if (Blank(phase) is { } named && PolicyDocument.Parse(versions[^1].Text, versions[^1].Version).Policy is { } latest && latest.AdmissionGate(named) is null)
        {
            return ApiProblems.Field("phase", $"'{named}' is not a phase a gate of {latest.Id} leads into ({string.Join(", ", latest.Gates.Select(g => g.To))})");
        }
        return null;
    }

    static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;

    static ValidationProblem? Reason(string? reason) =>
        string.IsNullOrWhiteSpace(reason) ? ApiProblems.Field("reason", "required: every change says why")
        : reason.Length > MaxReason ? ApiProblems.Field("reason", $"at most {MaxReason} characters")
        : null;
}
