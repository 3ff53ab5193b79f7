namespace Streaming.Api.Auth;

/// <summary>The roles' names, as in tokens, claims and authorization policies; a role includes the ones below it.</summary>
public static class ApiRoles
{
    public const string Viewer = "viewer";
    public const string Operator = "operator";
    public const string Admin = "admin";

    public static string Name(ApiRole role) => role switch
    {
        ApiRole.Viewer => Viewer,
        ApiRole.Operator => Operator,
        ApiRole.Admin => Admin,
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, "unknown role"),
    };

    public static bool TryParse(string? name, out ApiRole role)
    {
        (var known, role) = name switch
        {
            Viewer => (true, ApiRole.Viewer),
            Operator => (true, ApiRole.Operator),
            Admin => (true, ApiRole.Admin),
            _ => (false, default(ApiRole)),
        };
        return known;
    }

    /// <summary>The role and every role it includes.</summary>
    public static IEnumerable<string> Granted(ApiRole role) => Enum.GetValues<ApiRole>().Where(r => r <= role).Select(Name);
}
