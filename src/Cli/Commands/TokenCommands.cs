using System.CommandLine;
using Microsoft.Extensions.Logging;
using Serilog.Events;
using Streaming.Api.Auth;
using Streaming.Hosting.Logging;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>token create|list|revoke</c>: the API's bearer tokens (stored as digests; a new token is shown once). Token
/// administration is maintenance: direct database access, which also bootstraps the first token before any API runs.
/// Creating and revoking is recorded with who did it (the OS user) and logged as an <c>Audit:</c> line on standard error.
/// </summary>
public static class TokenCommands
{
    const string Maintenance = " (maintenance: direct database access)";

    public static Command Create()
    {
        var name = new Option<string>("--name") { Required = true, Description = "whose token: the person its writes are recorded under (e.g. alice)" };
        var role = new Option<string>("--role") { Required = true, Description = "viewer, operator or admin" };
        role.AcceptOnlyFromAmong(ApiRoles.Viewer, ApiRoles.Operator, ApiRoles.Admin);
        var output = new Option<FileInfo?>("--output", "-o") { Description = "write the token to this file (created 0600) instead of printing it" };
        var create = new Command("create", "Creates a token for a person and prints it once (only its digest is stored)" + Maintenance) { name, role, output };
        create.WithAction(async (context, parse, cancellationToken) =>
        {
            var holder = parse.GetValue(name)!;
            if (ApiTokens.NameProblem(holder) is { } problem)
            {
                throw new CommandFailedException($"--name: {problem}", 2);
            }
            ApiRoles.TryParse(parse.GetValue(role), out var parsed);
            using var loggers = StreamingLogging.ForCommandLine(LogEventLevel.Information);
            var tokens = await TokensAsync(context, loggers, cancellationToken);
            var token = await tokens.CreateAsync(holder, parsed, cancellationToken, Environment.UserName);
            if (parse.GetValue(output) is { } file)
            {
                WriteOwnerOnly(file, token);
                context.Print(new { name = holder, role = parse.GetValue(role), file = file.FullName },
                    () => Console.WriteLine($"token of {holder} ({parse.GetValue(role)}) written to {file.FullName}"));
            }
            else
            {
                context.Print(new { name = holder, role = parse.GetValue(role), token }, () => Console.WriteLine(token));
            }
            return 0;
        });

        var all = new Option<bool>("--all") { Description = "also revoked tokens, with who revoked them and when" };
        var list = new Command("list", "Lists the tokens in force: whose, role, created when and by whom (the tokens themselves are not kept)" + Maintenance) { all };
        list.WithAction(async (context, parse, cancellationToken) =>
        {
            using var loggers = StreamingLogging.ForCommandLine();
            var tokens = await TokensAsync(context, loggers, cancellationToken);
            var issued = await tokens.ListAsync(cancellationToken, includeRevoked: parse.GetValue(all));
            context.Print(issued.Select(t => new { t.Name, role = ApiRoles.Name(t.Role), t.CreatedAt, t.CreatedBy, t.RevokedAt, t.RevokedBy }), () =>
            {
                foreach (var token in issued)
                {
                    Console.WriteLine($"{token.Name}\t{ApiRoles.Name(token.Role)}\tcreated {token.CreatedAt:u} by {token.CreatedBy ?? "?"}" +
                        (token.RevokedAt is { } revoked ? $"\trevoked {revoked:u} by {token.RevokedBy ?? "?"}" : ""));
                }
            });
            return 0;
        });

        var revokeName = new Option<string>("--name") { Required = true, Description = "whose tokens to revoke" };
        var revoke = new Command("revoke", "Revokes every token of a person; their sessions end within seconds" + Maintenance) { revokeName };
        revoke.WithAction(async (context, parse, cancellationToken) =>
        {
            var holder = parse.GetValue(revokeName)!;
            using var loggers = StreamingLogging.ForCommandLine(LogEventLevel.Information);
            var tokens = await TokensAsync(context, loggers, cancellationToken);
            var revoked = await tokens.RevokeAsync(holder, cancellationToken, Environment.UserName);
            if (revoked == 0)
            {
                throw new CommandFailedException($"no token of {holder} is in force");
            }
            context.Print(new { revoked }, () => Console.WriteLine($"revoked {revoked} token(s) of {holder}"));
            return 0;
        });
        return new Command("token", "The API's bearer tokens" + Maintenance) { create, list, revoke };
    }

    static async Task<ApiTokens> TokensAsync(CommandContext context, ILoggerFactory loggers, CancellationToken cancellationToken) =>
        new(await context.StoreAsync(cancellationToken), TimeProvider.System, loggers.CreateLogger<ApiTokens>());

    // Created 0600 from the start, so no other user can read the token even for a moment.
    static void WriteOwnerOnly(FileInfo file, string token)
    {
        if (file.Exists)
        {
            throw new CommandFailedException($"--output: {file.FullName} exists already; a token file is never overwritten", 2);
        }
        using var stream = OperatingSystem.IsWindows()
            ? new FileStream(file.FullName, FileMode.CreateNew, FileAccess.Write)
            : new FileStream(file.FullName, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
        using var writer = new StreamWriter(stream);
        writer.WriteLine(token);
    }
}
