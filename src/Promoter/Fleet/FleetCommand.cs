using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting;

namespace Streaming.Promoter.Fleet;

/// <summary>
/// <c>known-issue open ID --title TEXT [--job JOB]... [--label NAME=VALUE]... [--by NAME]</c>,
/// <c>known-issue resolve ID --reason TEXT [--by NAME]</c> and <c>breaker reset POLICY PHASE --reason TEXT [--by NAME]</c>.
/// </summary>
public static class FleetCommand
{
    const string Usage = """
        usage: known-issue open ID --title TEXT [--job JOB]... [--label NAME=VALUE]... [--by NAME]
               known-issue resolve ID --reason TEXT [--by NAME]
               breaker reset POLICY PHASE --reason TEXT [--by NAME]
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var (positional, options) = Split(args);
        if (options is null)
        {
            return Fail(Usage);
        }
        var by = Single(options, "--by") ?? Environment.UserName;
        await using var dataSource = NpgsqlDataSource.Create(ServiceDefaults.ConnectionStringFromEnvironment());
        await EventStoreSchema.MigrateAsync(dataSource, CancellationToken.None);
        var writer = new FleetWriter(new EventStreams(dataSource), TimeProvider.System);
        try
        {
            switch (positional)
            {
                case ["known-issue", "open", var id] when Single(options, "--title") is { } title:
                    var labels = new Dictionary<string, string>(StringComparer.Ordinal);
                    foreach (var label in options.GetValueOrDefault("--label") ?? [])
                    {
                        if (label.Split('=', 2) is not [var name, var value] || name.Length == 0)
                        {
                            return Fail($"--label {label}: expected NAME=VALUE");
                        }
                        labels[name] = value;
                    }
                    var opened = await writer.OpenIssueAsync(id, title, options.GetValueOrDefault("--job") ?? [], labels, by, CancellationToken.None);
                    Console.WriteLine($"known issue {opened.IssueId} opened: {opened.Title}");
                    return 0;
                case ["known-issue", "resolve", var id] when Single(options, "--reason") is { } reason:
                    await writer.ResolveIssueAsync(id, by, reason, CancellationToken.None);
                    Console.WriteLine($"known issue {id} resolved: its jobs are promoted again, within the waves");
                    return 0;
                case ["breaker", "reset", var policy, var phase] when Single(options, "--reason") is { } reason:
                    await writer.ResetBreakerAsync(policy, phase, by, reason, CancellationToken.None);
                    Console.WriteLine($"asked to close the circuit breaker of {policy}/{phase}");
                    return 0;
                default:
                    return Fail(Usage);
            }
        }
        catch (WrongExpectedVersionException)
        {
            return Fail(positional is [_, "open", ..] ? "a known issue with this id exists already" : "no open known issue has this id");
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
    }

    static (string[] Positional, Dictionary<string, List<string>>? Options) Split(string[] args)
    {
        var positional = new List<string>();
        var options = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(args[i]);
                continue;
            }
            if (i + 1 >= args.Length || args[i] is not ("--title" or "--job" or "--label" or "--by" or "--reason"))
            {
                return ([.. positional], null);
            }
            (options.TryGetValue(args[i], out var values) ? values : options[args[i]] = []).Add(args[++i]);
        }
        return ([.. positional], options);
    }

    static string? Single(Dictionary<string, List<string>> options, string name) =>
        options.TryGetValue(name, out var values) && values.Count == 1 && !string.IsNullOrWhiteSpace(values[0]) ? values[0] : null;

    static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }
}
