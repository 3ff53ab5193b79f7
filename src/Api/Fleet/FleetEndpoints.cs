using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Streaming.Api.Auth;
using Streaming.Api.Problems;

namespace Streaming.Api.Fleet;

/// <summary>The fleet: summary, history over time, the decision feed, breakers, known issues, shadow agreement (viewer).</summary>
public static class FleetEndpoints
{
    static readonly string[] Directions = ["promote", "demote", "override"];

    public static void MapFleetEndpoints(this IEndpointRouteBuilder routes)
    {
        var api = routes.MapGroup("/api/v1").WithTags("Fleet").RequireAuthorization(ApiRoles.Viewer);
        api.MapGet("/fleet/summary", async (FleetQueries fleet) => TypedResults.Ok(await fleet.SummaryAsync()))
            .WithSummary("Jobs per policy and phase with their flags, breakers, waves, known issues, shadow agreement and the jobs needing attention");
        api.MapGet("/fleet/health", (Telemetry.PipelineSampler sampler) => TypedResults.Ok(sampler.Current))
            .WithSummary("The health strip: ingest and dead-letter rates, consumer lag, each fold's lag, the latest sample of the pipeline");
        api.MapGet("/fleet/history", HistoryAsync).WithSummary("Jobs per phase and moves per hour over event time");
        api.MapGet("/decisions", FeedAsync).WithSummary("The fleet's phase changes, newest first, filtered, a page at a time");
        api.MapGet("/breakers", async (FleetQueries fleet, CancellationToken ct) => TypedResults.Ok(await fleet.BreakersAsync(ct)))
            .WithSummary("Each phase's circuit breaker");
        api.MapGet("/known-issues", async (FleetQueries fleet, CancellationToken ct) => TypedResults.Ok(await fleet.KnownIssuesAsync(ct)))
            .WithSummary("Known issues, open first, with how many jobs each holds");
        api.MapGet("/gates", async (GateQueries gates, CancellationToken ct) => TypedResults.Ok(await gates.SummaryAsync(ct)))
            .WithSummary("The fleet's event-time watermark, silent jobs, operators' pauses in force and the policies' promotion windows");
        api.MapGet("/shadow-agreement", async (FleetQueries fleet, CancellationToken ct) => TypedResults.Ok(await fleet.ShadowAsync(ct)))
            .WithSummary("How each shadow policy agrees with the policies in force");
    }

    static async Task<Results<Ok<FleetHistory>, ValidationProblem>> HistoryAsync(FleetHistoryQueries history, int? hours, CancellationToken cancellationToken) =>
        hours is < 1 or > 24 * 90
            ? ApiProblems.Field("hours", "between 1 and 2160")
            : TypedResults.Ok(await history.HistoryAsync(hours ?? 48, cancellationToken));

    static async Task<Results<Ok<FeedPage>, ValidationProblem>> FeedAsync(
        FleetHistoryQueries history, string? direction, string? policy, string? phase, DateTimeOffset? from, DateTimeOffset? to, long? before, int? limit,
        string? job, CancellationToken cancellationToken)
    {
        if (direction is not null && !Directions.Contains(direction))
        {
            return ApiProblems.Field("direction", "promote, demote or override");
        }
        if (limit is < 1 or > 500)
        {
            return ApiProblems.Field("limit", "between 1 and 500");
        }
        if (from is not null && to is not null && from >= to)
        {
            return ApiProblems.Field("to", "must be after 'from'");
        }
        return TypedResults.Ok(await history.FeedAsync(new FeedFilter(direction, policy, phase, from, to, before, limit ?? 50, job), cancellationToken));
    }
}
