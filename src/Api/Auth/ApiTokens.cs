using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Contracts.Text;

namespace Streaming.Api.Auth;

/// <summary>
/// Bearer tokens in <c>api.tokens</c>, stored as their SHA-256 digest only. Tokens found are cached briefly (a revoked
/// token stops working within <see cref="CacheFor"/>); tokens not found are never cached, so guesses cannot push valid
/// tokens out (failed attempts are rate-limited by <see cref="FailedAuthentications"/> instead). Creating and revoking
/// tokens is logged with the actor, never the token.
/// </summary>
public sealed partial class ApiTokens(NpgsqlDataSource dataSource, TimeProvider clock, ILogger<ApiTokens>? logger = null)
{
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(10);
    const int MostCached = 10_000;

    readonly ConcurrentDictionary<string, (ApiToken Token, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);
    readonly ILogger _logger = logger ?? (ILogger)NullLogger.Instance;

    /// <summary>The digest a token is stored under, in hex.</summary>
    public static string DigestOf(string token) => Convert.ToHexString(Digest(token));

    /// <summary>A new token: 32 random bytes, URL-safe, with a prefix that secret scanners can recognise.</summary>
    public static string NewToken() => "stk_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static byte[] Digest(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    public Task<ApiToken?> FindAsync(string token, CancellationToken cancellationToken) => FindByDigestAsync(DigestOf(token), cancellationToken);

    /// <summary>The token in force whose digest (hex) is <paramref name="key"/>, or null.</summary>
    public async Task<ApiToken?> FindByDigestAsync(string key, CancellationToken cancellationToken)
    {
        var digest = Convert.FromHexString(key);
        var now = clock.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && cached.Until > now)
        {
            return cached.Token;
        }
        await using var command = dataSource.CreateCommand("select name, role, created_at from api.tokens where token_sha256 = $1 and revoked_at is null");
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = digest });
        ApiToken? found = null;
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            if (await reader.ReadAsync(cancellationToken) && ApiRoles.TryParse(reader.GetString(1), out var role))
            {
                found = new ApiToken(reader.GetString(0), role, reader.GetFieldValue<DateTimeOffset>(2));
            }
        }
        if (found is null)
        {
            return null;
        }
        if (_cache.Count >= MostCached)
        {
            _cache.Clear();
        }
        _cache[key] = (found, now + CacheFor);
        return found;
    }

    /// <summary>
    /// A token's name is the actor of every write made with it (a person, e.g. <c>alice</c>): up to
    /// <see cref="MostNameCharacters"/> characters, not blank, no surrounding spaces, no control or formatting characters.
    /// </summary>
    public const int MostNameCharacters = 100;

    /// <summary>Why <paramref name="name"/> cannot name a token, or null when it can.</summary>
    public static string? NameProblem(string? name) =>
        string.IsNullOrWhiteSpace(name) ? "a token names its holder: the name is required"
        : name.Length > MostNameCharacters ? $"a token's name is at most {MostNameCharacters} characters"
        : name.Trim() != name ? "a token's name has no spaces at either end"
        : name.EnumerateRunes().Any(UntrustedText.IsHidden) ? "a token's name holds no control or formatting characters"
        : null;

    /// <summary>Stores a token for <paramref name="name"/>; a token already stored is left as it is.</summary>
    public async Task AddAsync(string token, string name, ApiRole role, CancellationToken cancellationToken, string? createdBy = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        if (NameProblem(name) is { } problem)
        {
            throw new ArgumentException(problem, nameof(name));
        }
        await using var command = dataSource.CreateCommand(
            "insert into api.tokens (token_sha256, name, role, created_by) values ($1, $2, $3, $4) on conflict (token_sha256) do nothing");
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Digest(token) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ApiRoles.Name(role) });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = createdBy ?? Environment.UserName });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Creates, stores and returns a new token; <paramref name="actor"/> (default: the OS user) is recorded and logged as its creator.</summary>
    public async Task<string> CreateAsync(string name, ApiRole role, CancellationToken cancellationToken, string? actor = null)
    {
        actor ??= Environment.UserName;
        var token = NewToken();
        await AddAsync(token, name, role, cancellationToken, actor);
        LogCreated(_logger, UntrustedText.Escape(name), ApiRoles.Name(role), UntrustedText.Escape(actor));
        return token;
    }

    /// <summary>Revokes every token of <paramref name="name"/>; returns how many. <paramref name="actor"/> (default: the OS user) is recorded and logged.</summary>
    public async Task<int> RevokeAsync(string name, CancellationToken cancellationToken, string? actor = null)
    {
        actor ??= Environment.UserName;
        await using var command = dataSource.CreateCommand("update api.tokens set revoked_at = now(), revoked_by = $2 where name = $1 and revoked_at is null");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = name });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = actor });
        var revoked = await command.ExecuteNonQueryAsync(cancellationToken);
        _cache.Clear();
        LogRevoked(_logger, revoked, UntrustedText.Escape(name), UntrustedText.Escape(actor));
        return revoked;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: token created for {Name} with role {Role} by {Actor}")]
    static partial void LogCreated(ILogger logger, string name, string role, string actor);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audit: {Count} token(s) of {Name} revoked by {Actor}")]
    static partial void LogRevoked(ILogger logger, int count, string name, string actor);

    /// <summary>The tokens in force (with <paramref name="includeRevoked"/>, every token ever created), with who created and revoked them.</summary>
    public async Task<IReadOnlyList<IssuedToken>> ListAsync(CancellationToken cancellationToken, bool includeRevoked = false)
    {
        await using var command = dataSource.CreateCommand(
            "select name, role, created_at, created_by, revoked_at, revoked_by from api.tokens " +
            (includeRevoked ? "" : "where revoked_at is null ") + "order by name, created_at");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tokens = new List<IssuedToken>();
        while (await reader.ReadAsync(cancellationToken))
        {
            if (ApiRoles.TryParse(reader.GetString(1), out var role))
            {
                tokens.Add(new IssuedToken(reader.GetString(0), role, reader.GetFieldValue<DateTimeOffset>(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4),
                    reader.IsDBNull(5) ? null : reader.GetString(5)));
            }
        }
        return tokens;
    }
}
