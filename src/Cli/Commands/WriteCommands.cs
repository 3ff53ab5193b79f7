using System.CommandLine;
using Spectre.Console;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Promoter.Fleet;
using Streaming.Promoter.Overrides;

namespace Streaming.Cli.Commands;

/// <summary><c>override</c>, <c>known-issue</c> and <c>breaker</c>: the same events the API writes, through the same writers.</summary>
public static class WriteCommands
{
    static Option<string> By() => new("--by") { Description = "who does this (default: your user name)", DefaultValueFactory = _ => Environment.UserName };

    static Option<string> Reason(string description) => new("--reason") { Description = description, Required = true };

    public static Command Override()
    {
        var kind = new Argument<string>("kind") { Description = "hold, release, pin, force-promote or force-demote" };
        kind.AcceptOnlyFromAmong("hold", "release", "pin", "force-promote", "force-demote");
        var job = new Argument<string>("job") { Description = "the job id" };
        var phase = new Argument<string?>("phase") { Description = "the phase to pin to (pin only)", Arity = ArgumentArity.ZeroOrOne };
        var reason = Reason("why: every override says it");
        var lasting = new Option<string?>("--for") { Description = "how long a hold or pin lasts in the job's event time (90m, 4h, 1d); default until released" };
        var by = By();
        var command = new Command("override", "Holds, releases, pins or forces one job") { kind, job, phase, reason, lasting, by };
        return command.WithAction(async (context, parse, cancellationToken) =>
        {
            OverrideKinds.TryParse(parse.GetValue(kind), out var parsedKind);
            TimeSpan? duration = null;
            if (parse.GetValue(lasting) is { } text)
            {
                duration = PolicyDurations.TryParse(text, out var parsed) && parsed > TimeSpan.Zero
                    ? parsed
                    : throw new CommandFailedException($"--for: '{text}' is not a duration (for example 90m, 2h, 1d)", 2);
            }
            var writer = new OverrideWriter(new EventStreams(await context.StoreAsync(cancellationToken)), TimeProvider.System);
            var set = await writer.SetAsync(parse.GetValue(job)!, parsedKind, parse.GetValue(phase), parse.GetValue(by)!, parse.GetValue(reason)!, duration, cancellationToken);
            context.Print(set, () => Console.WriteLine($"override {set.OverrideId}: {set.Kind}{(set.Phase is null ? "" : " " + set.Phase)} of {set.JobId} by {set.Actor}" +
                (set.ExpiresAt is { } until ? $" until {until:u}" : "")));
            return 0;
        });
    }

    public static Command KnownIssue()
    {
        var id = new Argument<string>("id");
        var title = new Option<string>("--title") { Required = true, Description = "what the issue is" };
        var jobs = new Option<string[]>("--job") { Description = "a job the issue holds (repeatable)", AllowMultipleArgumentsPerToken = false };
        var labels = new Option<string[]>("--label") { Description = "NAME=VALUE: jobs with these labels are held (repeatable)" };
        var by = By();
        var open = new Command("open", "Opens a known issue: its jobs are never promoted while it is open") { id, title, jobs, labels, by };
        open.WithAction(async (context, parse, cancellationToken) =>
        {
            var selector = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var label in parse.GetValue(labels) ?? [])
            {
                if (label.Split('=', 2) is not [{ Length: > 0 } name, var value])
                {
                    throw new CommandFailedException($"--label {label}: expected NAME=VALUE", 2);
                }
                selector[name] = value;
            }
            var writer = new FleetWriter(new EventStreams(await context.StoreAsync(cancellationToken)), TimeProvider.System);
            try
            {
                var opened = await writer.OpenIssueAsync(parse.GetValue(id)!, parse.GetValue(title)!, parse.GetValue(jobs) ?? [], selector, parse.GetValue(by)!, cancellationToken);
                context.Print(opened, () => Console.WriteLine($"known issue {opened.IssueId} opened: {opened.Title}"));
                return 0;
            }
            catch (WrongExpectedVersionException)
            {
                throw new CommandFailedException($"a known issue {parse.GetValue(id)} exists already");
            }
        });
        var resolveId = new Argument<string>("id");
        var reason = Reason("why it is resolved");
        var resolvedBy = By();
        var resolve = new Command("resolve", "Resolves a known issue: its jobs are the policy's again") { resolveId, reason, resolvedBy };
        resolve.WithAction(async (context, parse, cancellationToken) =>
        {
            var writer = new FleetWriter(new EventStreams(await context.StoreAsync(cancellationToken)), TimeProvider.System);
            try
            {
                var resolved = await writer.ResolveIssueAsync(parse.GetValue(resolveId)!, parse.GetValue(resolvedBy)!, parse.GetValue(reason)!, cancellationToken);
                context.Print(resolved, () => Console.WriteLine($"known issue {resolved.IssueId} resolved: its jobs are promoted again, within the waves"));
                return 0;
            }
            catch (WrongExpectedVersionException)
            {
                throw new CommandFailedException($"no open known issue {parse.GetValue(resolveId)}");
            }
        });
        return new Command("known-issue", "Opens and resolves known issues") { open, resolve };
    }

    public static Command Breaker()
    {
        var policy = new Argument<string>("policy");
        var phase = new Argument<string>("phase");
        var reason = Reason("why the breaker may close");
        var by = By();
        var reset = new Command("reset", "Asks to close a phase's circuit breaker") { policy, phase, reason, by };
        reset.WithAction(async (context, parse, cancellationToken) =>
        {
            var writer = new FleetWriter(new EventStreams(await context.StoreAsync(cancellationToken)), TimeProvider.System);
            var requested = await writer.ResetBreakerAsync(parse.GetValue(policy)!, parse.GetValue(phase)!, parse.GetValue(by)!, parse.GetValue(reason)!, cancellationToken);
            context.Print(requested, () => Console.WriteLine($"asked to close the circuit breaker of {requested.Policy}/{requested.Phase}"));
            return 0;
        });
        return new Command("breaker", "Circuit breakers") { reset };
    }
}
