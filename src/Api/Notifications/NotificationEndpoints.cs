using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Streaming.Api.Auth;
using Streaming.Api.Problems;

namespace Streaming.Api.Notifications;

/// <summary>The notifications told, with each webhook's delivery state (viewer).</summary>
public static class NotificationEndpoints
{
    public static void MapNotificationEndpoints(this IEndpointRouteBuilder routes)
    {
        // Under the API's versioned prefix like every other read, and at /api/notifications as well.
        foreach (var prefix in new[] { "/api/v1", "/api" })
        {
            routes.MapGroup(prefix).WithTags("Notifications").RequireAuthorization(ApiRoles.Viewer)
                .MapGet("/notifications", PageAsync)
                .WithSummary("Notifications, newest first, a page at a time, each with its webhooks' delivery state, attempts and last error");
        }
    }

    static async Task<Results<Ok<NotificationPage>, ValidationProblem>> PageAsync(
        NotificationQueries notifications, string? rule, string? state, string? status, long? before, int? limit, CancellationToken cancellationToken)
    {
        if (rule is not null && !NotificationRules.Names.Contains(rule, StringComparer.Ordinal))
        {
            return ApiProblems.Field("rule", string.Join(", ", NotificationRules.Names));
        }
        if (state is not null && !NotificationMetrics.DeliveryStates.Contains(state, StringComparer.Ordinal))
        {
            return ApiProblems.Field("state", "pending, delivered or failed");
        }
        if (status is not null && !Notification.Statuses.Contains(status, StringComparer.Ordinal))
        {
            return ApiProblems.Field("status", "firing or resolved");
        }
        if (limit is < 1 or > 200)
        {
            return ApiProblems.Field("limit", "between 1 and 200");
        }
        return TypedResults.Ok(await notifications.PageAsync(rule, state, status, before, limit ?? 50, cancellationToken));
    }
}
