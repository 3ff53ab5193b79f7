using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;

namespace Streaming.Api.Auth;

/// <summary>An endpoint's least role; when it is missing, the 403 answer says which role was needed.</summary>
sealed class RoleRequirement(string role) : AuthorizationHandler<RoleRequirement>, IAuthorizationRequirement
{
    public const string NeededKey = "streaming.role-needed";

    public string Role => role;

    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, RoleRequirement requirement)
    {
        if (context.User.IsInRole(requirement.Role))
        {
            context.Succeed(requirement);
        }
        else if (context.Resource is HttpContext http)
        {
            http.Items[NeededKey] = requirement.Role;
        }
        return Task.CompletedTask;
    }
}
