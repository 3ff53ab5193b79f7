using System.CommandLine;
using Streaming.Api.Auth;

namespace Streaming.Cli.Commands;

/// <summary><c>token create|list|revoke</c>: the API's bearer tokens (stored as digests; a new token is shown once).</summary>
public static class TokenCommands
{
    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = "whose token: the actor its writes are recorded under" };
        var role = new Option<string>("--role") { Required = true, Description = "viewer, operator or admin" };
        role.AcceptOnlyFromAmong(ApiRoles.Viewer, ApiRoles.Operator, ApiRoles.Admin);
        var create = new Command("create", "Creates a token and prints it (once: only its digest is stored)") { name, role };
        create.WithAction(async (context, parse, cancellationToken) =>
        {
            ApiRoles.TryParse(parse.GetValue(role), out var parsed);
            var token = await new ApiTokens(await context.StoreAsync(cancellationToken), TimeProvider.System).CreateAsync(parse.GetValue(name)!, parsed, cancellationToken);
            context.Print(new { name = parse.GetValue(name), role = parse.GetValue(role), token }, () => Console.WriteLine(token));
            return 0;
        });
        var list = new Command("list", "Lists the tokens in force (names and roles; the tokens themselves are not kept)");
        list.WithAction(async (context, _, cancellationToken) =>
        {
            var tokens = await new ApiTokens(await context.StoreAsync(cancellationToken), TimeProvider.System).ListAsync(cancellationToken);
            context.Print(tokens.Select(t => new { t.Name, role = ApiRoles.Name(t.Role), t.CreatedAt }), () =>
            {
                foreach (var token in tokens)
                {
                    Console.WriteLine($"{token.Name}\t{ApiRoles.Name(token.Role)}\t{token.CreatedAt:u}");
                }
            });
            return 0;
        });
        var revokeName = new Argument<string>("name");
        var revoke = new Command("revoke", "Revokes every token of a name") { revokeName };
        revoke.WithAction(async (context, parse, cancellationToken) =>
        {
            var revoked = await new ApiTokens(await context.StoreAsync(cancellationToken), TimeProvider.System).RevokeAsync(parse.GetValue(revokeName)!, cancellationToken);
            if (revoked == 0)
            {
                throw new CommandFailedException($"no token of {parse.GetValue(revokeName)} is in force");
            }
            context.Print(new { revoked }, () => Console.WriteLine($"revoked {revoked} token(s) of {parse.GetValue(revokeName)}"));
            return 0;
        });
        return new Command("token", "The API's bearer tokens") { create, list, revoke };
    }
}
