using System.CommandLine;
using Streaming.Api.Policies;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Promoter.Policies;
using Streaming.Promoter.Shadows;

namespace Streaming.Cli.Commands;

/// <summary><c>policy validate|publish|history|shadow-report</c>: publishing goes through the API (admin role); the rest reads.</summary>
public static class PolicyCommands
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "a policy document (YAML)" };
        var validate = new Command("validate", "Checks a policy document; needs no database") { file };
        validate.WithAction((context, parse, _) => Task.FromResult(Validate(context, parse.GetValue(file)!)));

        var publishFile = new Argument<FileInfo>("file") { Description = "a policy document (YAML)" };
        var by = ActorOption.Refused();
        var shadow = new Option<bool>("--shadow") { Description = "publish as a shadow policy, which only says what it would do" };
        var publish = new Command("publish", "Publishes a document as the policy's next version, unless it is unchanged (through the API, admin role)") { publishFile, by, shadow };
        publish.WithAction(async (context, parse, cancellationToken) =>
        {
            ActorOption.Refuse(parse, by);
            var path = parse.GetValue(publishFile)!;
            var text = await Read(path, cancellationToken);
            // Checked here first, so a bad document is reported as the file's errors (exit 2) without a round trip; the API checks again.
            if (PolicyDocument.Parse(text, version: 1) is { Policy: null } invalid)
            {
                context.Print(new { outcome = "rejected", name = (string?)null, version = 0, errors = invalid.Errors.Select(e => e.ToString()) }, () =>
                {
                    foreach (var error in invalid.Errors)
                    {
                        Console.Error.WriteLine($"{path}: {error}");
                    }
                });
                return 2;
            }
            var published = await context.Api.PostAsync<PolicyEndpoints.Published>("api/v1/policies",
                new PolicyEndpoints.PublishRequest(text, parse.GetValue(shadow)), cancellationToken);
            context.Print(new { published.Outcome, published.Name, published.Version, errors = Array.Empty<string>() },
                () => Console.WriteLine($"{published.Name}@{published.Version} {published.Outcome}"));
            return 0;
        });

        var name = new Argument<string>("name");
        var history = new Command("history", "Lists a policy's published versions") { name };
        history.WithAction(async (context, parse, cancellationToken) =>
        {
            var publisher = new PolicyPublisher(new EventStreams(await context.StoreAsync(cancellationToken)), TimeProvider.System);
            var versions = await publisher.HistoryAsync(parse.GetValue(name)!, cancellationToken);
            if (versions.Count == 0)
            {
                throw new CommandFailedException($"no policy {parse.GetValue(name)} was published");
            }
            context.Print(versions.Select(v => new { v.Name, v.Version, v.Sha256, v.PublishedBy, v.PublishedAt }), () =>
            {
                foreach (var version in versions)
                {
                    Console.WriteLine($"{version.Name}@{version.Version}\t{version.PublishedAt:u}\t{version.PublishedBy}\tsha256 {version.Sha256[..12]}");
                }
            });
            return 0;
        });

        var shadowReport = new Command("shadow-report", "How each shadow policy agrees with the policies in force");
        shadowReport.WithAction(async (context, _, cancellationToken) =>
        {
            var store = await context.StoreAsync(cancellationToken);
            var agreement = (await ShadowStateTable.LoadAgreementAsync(store, cancellationToken)).Values.OrderBy(a => a.Policy, StringComparer.Ordinal).ToList();
            context.Print(agreement, () =>
            {
                Console.WriteLine("shadow policy         agreed   real only   shadow only   open   agreement");
                foreach (var a in agreement)
                {
                    Console.WriteLine($"{a.Policy,-20} {a.Agreed,7} {a.LiveOnly,11} {a.ShadowOnly,13} {a.Open,6} {a.AgreementRate,11:P1}");
                }
            });
            return 0;
        });
        return new Command("policy", "Lifecycle policies: validate, publish, list versions, shadow agreement") { validate, publish, history, shadowReport };
    }

    static int Validate(CommandContext context, FileInfo path)
    {
        var parsed = PolicyDocument.Parse(File.Exists(path.FullName) ? File.ReadAllText(path.FullName) : throw new CommandFailedException($"{path} does not exist"), version: 1);
        context.Print(new { valid = parsed.Policy is not null, name = parsed.Policy?.Name, phases = parsed.Policy?.Phases, errors = parsed.Errors.Select(e => e.ToString()) }, () =>
        {
            if (parsed.Policy is { } policy)
            {
                Console.WriteLine($"{path}: valid policy {policy.Name}: {string.Join(" → ", policy.Phases)}");
            }
            foreach (var error in parsed.Errors)
            {
                Console.Error.WriteLine($"{path}: {error}");
            }
        });
        return parsed.Policy is null ? 2 : 0;
    }

    static Task<string> Read(FileInfo path, CancellationToken cancellationToken) =>
        File.Exists(path.FullName) ? File.ReadAllTextAsync(path.FullName, cancellationToken) : throw new CommandFailedException($"{path} does not exist");
}
