using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Streaming.Api.Auth;
using Streaming.Api.Problems;
using Streaming.LifecycleEvents;
using Streaming.Projections;

namespace Streaming.Api.Jobs;

/// <summary>The jobs: list, detail, history and criterion series (viewer).</summary>
public static class JobEndpoints
{
    public static void MapJobEndpoints(this IEndpointRouteBuilder routes)
    {
        var jobs = routes.MapGroup("/api/v1/jobs").WithTags("Jobs").RequireAuthorization(ApiRoles.Viewer);
        jobs.MapGet("", ListAsync).WithSummary("Jobs, filtered and sorted, a page at a time (keyset cursor)");
        jobs.MapGet("/{jobId}", DetailAsync).WithSummary("Why a job is where it is");
        jobs.MapGet("/{jobId}/history", HistoryAsync).WithSummary("A job's events, newest first, a page at a time");
        jobs.MapGet("/{jobId}/series", SeriesAsync).WithSummary("Each criterion's value over the job's recent signals, with thresholds and decisions");
    }

    static async Task<Results<Ok<JobPage>, ValidationProblem>> ListAsync(
        JobQueries queries, string? phase, string? flag, string? label, string? policy, string? prefix, string? sort, string? order, int? limit, string? cursor,
        bool? count, string? state, CancellationToken cancellationToken)
    {
        var (query, problem) = JobListQuery.Parse(phase, flag, label, policy, prefix, sort, order, limit, cursor, count ?? false, state);
        return problem ?? (Results<Ok<JobPage>, ValidationProblem>)TypedResults.Ok(await queries.ListAsync(query!, cancellationToken));
    }

    static async Task<Results<Ok<JobDetail>, ProblemHttpResult>> DetailAsync(JobQueries queries, string jobId, CancellationToken cancellationToken) =>
        await queries.DetailAsync(jobId, cancellationToken) is { } detail ? TypedResults.Ok(detail) : ApiProblems.NotFound($"no job '{jobId}'");

    static async Task<Results<Ok<HistoryPage>, ValidationProblem, ProblemHttpResult>> HistoryAsync(
        JobQueries queries, string jobId, long? before, int? limit, CancellationToken cancellationToken)
    {
        // Policies, known issues and breakers live in streams of their own, which are not a job's history.
        if (ControlStreams.IsControl(jobId))
        {
            return ApiProblems.NotFound($"no job '{jobId}'");
        }
        if (limit is < 1 or > 1000)
        {
            return ApiProblems.Field("limit", "between 1 and 1000");
        }
        if (before is < 1)
        {
            return ApiProblems.Field("before", "a stream version, 1 or more");
        }
        return TypedResults.Ok(await queries.HistoryAsync(jobId, before, limit ?? 100, cancellationToken));
    }

    static async Task<Results<Ok<CriterionSeries>, ProblemHttpResult>> SeriesAsync(JobQueries queries, string jobId, CancellationToken cancellationToken) =>
        await queries.SeriesAsync(jobId, cancellationToken) is { } series ? TypedResults.Ok(series) : ApiProblems.NotFound($"no job '{jobId}'");
}
