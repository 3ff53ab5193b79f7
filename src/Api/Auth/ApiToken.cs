namespace Streaming.Api.Auth;

/// <summary>A token as stored: whose it is (the actor its writes are recorded under) and its role; the token itself is never kept.</summary>
public sealed record ApiToken(string Name, ApiRole Role, DateTimeOffset CreatedAt);
