using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Streaming.Api.Auth;

namespace Streaming.Api.Live;

/// <summary>
/// <c>/api/v1/live</c>: server-sent events, one per change of the fleet (at most a few a second), and a heartbeat every
/// 15 s; each session or token may hold a few open at once (<see cref="ApiOptions.MostLiveStreamsPerSession"/>).
/// </summary>
public static class LiveEndpoints
{
    public sealed record Change(string Kind, DateTimeOffset At);

    public static void MapLiveEndpoints(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/v1/live", Open)
            .WithTags("Fleet").RequireAuthorization(ApiRoles.Viewer)
            .WithSummary("Server-sent events: the fleet changed (kind decisions, fleet, log or heartbeat)");

    static Results<ServerSentEventsResult<Change>, ProblemHttpResult> Open(
        HttpContext http, LiveUpdates live, LiveStreamSlots slots, CancellationToken cancellationToken)
    {
        var holder = http.User.FindFirst(AuthSchemes.SessionIdClaim)?.Value is { } session ? "session:" + session : "token:" + http.User.Actor();
        if (slots.TryTake(holder) is not { } slot)
        {
            return TypedResults.Problem(detail: "this session holds the most live event streams it may; close one first",
                statusCode: StatusCodes.Status429TooManyRequests, title: "Too many live streams");
        }
        return TypedResults.ServerSentEvents(ChangesAsync(live, slot, cancellationToken), eventType: "change");
    }

    static async IAsyncEnumerable<Change> ChangesAsync(LiveUpdates live, IDisposable slot, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (slot)
        {
            yield return new Change("hello", DateTimeOffset.UtcNow);
            while (!cancellationToken.IsCancellationRequested)
            {
                var next = live.NextAsync();
                var finished = await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(15), cancellationToken));
                if (cancellationToken.IsCancellationRequested)
                {
                    yield break;
                }
                yield return new Change(finished == next ? await next : "heartbeat", DateTimeOffset.UtcNow);
            }
        }
    }
}
