using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Streaming.Api.Auth;

namespace Streaming.Api.Live;

/// <summary><c>/api/v1/live</c>: server-sent events, one per change of the fleet (at most a few a second), and a heartbeat every 15 s.</summary>
public static class LiveEndpoints
{
    public sealed record Change(string Kind, DateTimeOffset At);

    public static void MapLiveEndpoints(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/api/v1/live", (LiveUpdates live, CancellationToken cancellationToken) =>
                TypedResults.ServerSentEvents(ChangesAsync(live, cancellationToken), eventType: "change"))
            .WithTags("Fleet").RequireAuthorization(ApiRoles.Viewer)
            .WithSummary("Server-sent events: the fleet changed (kind decisions, fleet, log or heartbeat)");

    static async IAsyncEnumerable<Change> ChangesAsync(LiveUpdates live, [EnumeratorCancellation] CancellationToken cancellationToken)
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
