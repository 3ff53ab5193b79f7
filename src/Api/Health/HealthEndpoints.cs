using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Npgsql;
using Streaming.Api.Auth;
using Streaming.Api.Telemetry;
using Streaming.EventStore;
using Streaming.Hosting.Resilience;

namespace Streaming.Api.Health;

/// <summary>
/// <c>/health/live</c>: the process answers. <c>/health/ready</c>: PostgreSQL and the brokers are reachable, every fold
/// is within the lag bound, and no loop of this process is waiting out an outage; 503 otherwise. Both are open to anyone,
/// for load balancers and supervisors, and then say only which dependency is down; a signed-in viewer also gets the
/// folds' lag and each loop's condition with its reason.
/// </summary>
public static class HealthEndpoints
{
    public sealed record Readiness(string Status, IReadOnlyList<string> Problems, IReadOnlyList<FoldLag>? Folds, IReadOnlyList<LoopState>? Loops);

    public static void MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health/live", () => TypedResults.Ok(new { status = "live" })).WithTags("Health").AllowAnonymous();
        routes.MapGet("/health/ready", ReadyAsync).WithTags("Health").AllowAnonymous();
    }

    static async Task<JsonHttpResult<Readiness>> ReadyAsync(
        HttpContext http, StoreShards shards, PipelineSampler sampler, LoopHealth loops, IOptions<ApiOptions> options, CancellationToken cancellationToken)
    {
        var detailed = (await http.AuthenticateAsync(AuthSchemes.Either)).Principal?.IsInRole(ApiRoles.Viewer) == true;
        var problems = new List<string>();
        var reachable = await shards.EachAsync(async (dataSource, token) =>
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(token);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                await using var command = dataSource.CreateCommand("select 1");
                await command.ExecuteScalarAsync(timeout.Token);
                return true;
            }
            catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
            {
                return false;
            }
        }, cancellationToken);
        for (var shard = 0; shard < reachable.Length; shard++)
        {
            if (!reachable[shard])
            {
                problems.Add(reachable.Length == 1 ? "PostgreSQL is not reachable" : $"PostgreSQL shard {shard} is not reachable");
            }
        }
        var sample = sampler.Current;
        if (sample.At == DateTimeOffset.MinValue)
        {
            problems.Add("the pipeline has not been sampled yet");
        }
        else
        {
            if (!sample.BrokerReachable)
            {
                problems.Add("the Kafka brokers are not reachable");
            }
            foreach (var fold in sample.Folds)
            {
                if (fold.Events > options.Value.ReadyMaxLagEvents || fold.Seconds > options.Value.ReadyMaxLag.TotalSeconds)
                {
                    problems.Add(detailed ? $"{fold.Name} is {fold.Events} events ({fold.Seconds:0} s) behind the log" : "a fold is behind the log");
                }
            }
        }
        var waiting = loops.Snapshot().Where(l => l.Condition != LoopCondition.Running).ToList();
        problems.AddRange(detailed
            ? waiting.Select(l => $"{l.Loop}: {l.Condition} ({l.Reason})")
            : waiting.Select(l => $"a loop is {l.Condition.ToString().ToLowerInvariant()}"));
        return TypedResults.Json(new Readiness(problems.Count == 0 ? "ready" : "not-ready", problems.Distinct().ToList(),
                detailed ? sample.Folds : null, detailed ? loops.Snapshot() : null),
            statusCode: problems.Count == 0 ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable);
    }
}
