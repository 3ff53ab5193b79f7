using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Streaming.Api.Auth;

/// <summary>
/// One token per role for the embedded default, kept in <see cref="ApiOptions.TokensFile"/> (mode 0600): created on
/// first start, and stored again (as digests) when the database is new but the file is not.
/// </summary>
sealed partial class DefaultTokens(ApiTokens tokens, IOptions<ApiOptions> options, ILogger<DefaultTokens> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.TokensFile is not { Length: > 0 } path)
        {
            return;
        }
        path = Path.GetFullPath(path);
        var existing = File.Exists(path) ? JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(path, cancellationToken)) : null;
        var kept = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var role in Enum.GetValues<ApiRole>())
        {
            var name = ApiRoles.Name(role);
            if (existing?.GetValueOrDefault(name) is { Length: > 0 } token)
            {
                await tokens.AddAsync(token, name, role, cancellationToken);
                kept[name] = token;
            }
            else
            {
                kept[name] = await tokens.CreateAsync(name, role, cancellationToken);
            }
        }
        if (existing is null || kept.Any(k => existing.GetValueOrDefault(k.Key) != k.Value))
        {
            Write(path, JsonSerializer.Serialize(kept, new JsonSerializerOptions { WriteIndented = true }));
        }
        LogWhere(path);
    }

    // Written beside the target and renamed over it, created 0600 so no other user can ever read it.
    static void Write(string path, string json)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temporary = path + ".tmp";
        var stream = OperatingSystem.IsWindows()
            ? new FileStream(temporary, FileMode.Create, FileAccess.Write)
            : new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.Create,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        using (stream)
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(json);
        }
        File.Move(temporary, path, overwrite: true);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "API tokens (viewer, operator, admin) are in {Path}")]
    partial void LogWhere(string path);
}
