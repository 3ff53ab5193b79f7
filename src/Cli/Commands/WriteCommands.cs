using System.CommandLine;
using Streaming.Api.Writes;
using Streaming.Contracts.History;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>override</c>, <c>known-issue</c> and <c>breaker</c> (trip, reset): sent to the API with a token (<c>--api</c>, <c>--token-file</c>),
/// so the operator role is checked and the actor recorded is the token's holder; the API writes the events.
/// </summary>
public static class WriteCommands
{
    internal static Option<string> Reason(string description) => new("--reason") { Description = description, Required = true };

    public static Command Override()
    {
        var kind = new Argument<string>("kind") { Description = "hold, release, pin, force-promote or force-demote" };
        kind.AcceptOnlyFromAmong("hold", "release", "pin", "force-promote", "force-demote");
        var job = new Argument<string>("job") { Description = "the job id" };
        var phase = new Argument<string?>("phase") { Description = "the phase to pin to (pin only)", Arity = ArgumentArity.ZeroOrOne };
        var reason = Reason("why: every override says it");
        var lasting = new Option<string?>("--for") { Description = "how long a hold or pin lasts in the job's event time (90m, 4h, 1d); default until released" };
        var by = ActorOption.Refused();
        var command = new Command("override", "Holds, releases, pins or forces one job (through the API, operator role)") { kind, job, phase, reason, lasting, by };
        return command.WithAction(async (context, parse, cancellationToken) =>
        {
            ActorOption.Refuse(parse, by);
            var jobId = parse.GetValue(job)!;
            var set = await context.Api.PostAsync<OverrideSet>($"api/v1/jobs/{Uri.EscapeDataString(jobId)}/overrides",
                new OverrideRequest(parse.GetValue(kind), parse.GetValue(phase), parse.GetValue(reason), parse.GetValue(lasting)), cancellationToken);
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
        var labels = LabelOption.Create("NAME=VALUE: jobs with these labels are held (repeatable)");
        var by = ActorOption.Refused();
        var open = new Command("open", "Opens a known issue: its jobs are never promoted while it is open (through the API, operator role)") { id, title, jobs, labels, by };
        open.WithAction(async (context, parse, cancellationToken) =>
        {
            ActorOption.Refuse(parse, by);
            var selector = LabelOption.Selector(parse, labels);
            var opened = await context.Api.PostAsync<KnownIssueOpened>("api/v1/known-issues",
                new KnownIssueRequest(parse.GetValue(id), parse.GetValue(title), parse.GetValue(jobs) ?? [], selector), cancellationToken);
            context.Print(opened, () => Console.WriteLine($"known issue {opened.IssueId} opened by {opened.OpenedBy}: {opened.Title}"));
            return 0;
        });
        var resolveId = new Argument<string>("id");
        var reason = Reason("why it is resolved");
        var resolvedBy = ActorOption.Refused();
        var resolve = new Command("resolve", "Resolves a known issue: its jobs are the policy's again (through the API, operator role)") { resolveId, reason, resolvedBy };
        resolve.WithAction(async (context, parse, cancellationToken) =>
        {
            ActorOption.Refuse(parse, resolvedBy);
            var resolved = await context.Api.PostAsync<KnownIssueResolved>($"api/v1/known-issues/{Uri.EscapeDataString(parse.GetValue(resolveId)!)}/resolve",
                new ReasonRequest(parse.GetValue(reason)), cancellationToken);
            context.Print(resolved, () => Console.WriteLine($"known issue {resolved.IssueId} resolved by {resolved.ResolvedBy}: its jobs are promoted again, within the waves"));
            return 0;
        });
        return new Command("known-issue", "Opens and resolves known issues") { open, resolve };
    }

    public static Command Breaker()
    {
        var policy = new Argument<string>("policy");
        var phase = new Argument<string>("phase");
        var reason = Reason("why the breaker may close");
        var by = ActorOption.Refused();
        var reset = new Command("reset", "Asks to close a phase's circuit breaker (through the API, operator role)") { policy, phase, reason, by };
        reset.WithAction(async (context, parse, cancellationToken) =>
        {
            ActorOption.Refuse(parse, by);
            var requested = await context.Api.PostAsync<CircuitBreakerResetRequested>(
                $"api/v1/breakers/{Uri.EscapeDataString(parse.GetValue(policy)!)}/{Uri.EscapeDataString(parse.GetValue(phase)!)}/reset",
                new ReasonRequest(parse.GetValue(reason)), cancellationToken);
            context.Print(requested, () => Console.WriteLine($"asked to close the circuit breaker of {requested.Policy}/{requested.Phase} as {requested.Actor}"));
            return 0;
        });
        var tripPolicy = new Argument<string>("policy");
        var tripPhase = new Argument<string>("phase") { Description = "a phase a gate of the policy leads into" };
        var tripReason = Reason("why the breaker opens");
        var trip = new Command("trip", "Opens a phase's circuit breaker by hand, until someone resets it (through the API, operator role)") { tripPolicy, tripPhase, tripReason };
        trip.WithAction(async (context, parse, cancellationToken) =>
        {
            var requested = await context.Api.PostAsync<CircuitBreakerTripRequested>(
                $"api/v1/breakers/{Uri.EscapeDataString(parse.GetValue(tripPolicy)!)}/{Uri.EscapeDataString(parse.GetValue(tripPhase)!)}/trip",
                new ReasonRequest(parse.GetValue(tripReason)), cancellationToken);
            context.Print(requested, () => Console.WriteLine($"asked to open the circuit breaker of {requested.Policy}/{requested.Phase} as {requested.Actor}: " +
                "the Promoter opens it in its place in the log"));
            return 0;
        });
        return new Command("breaker", "Opens (trip) and closes (reset) circuit breakers") { trip, reset };
    }
}
