namespace Streaming.Api.Auth;

/// <summary>A token's administrative record: whose it is, its role, who created it and when, and who revoked it (if anyone).</summary>
public sealed record IssuedToken(string Name, ApiRole Role, DateTimeOffset CreatedAt, string? CreatedBy, DateTimeOffset? RevokedAt, string? RevokedBy);
