namespace Streaming.Api.Auth;

/// <summary>What a token may do: read (viewer), also override jobs, known issues and breakers (operator), also publish policies (admin).</summary>
public enum ApiRole
{
    Viewer = 1,
    Operator = 2,
    Admin = 3,
}
