using System.CommandLine;
using Streaming.Api.Writes;
using Streaming.Contracts.History;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>pause</c> and <c>resume</c>: stop and restart promotions of the fleet, a policy, or into one phase of a policy,
/// through the API (operator role); the Promoter carries them out in their place in the log.
/// </summary>
public static class PauseCommands
{
    public static Command Pause()
    {
        var (policy, phase) = Scope();
        var reason = WriteCommands.Reason("why: every pause says it");
        var lasting = new Option<string?>("--for") { Description = "how long the pause lasts in the fleet's event time (90m, 2h, 1d; at most 30d); default until resumed" };
        var command = new Command("pause", "Pauses promotions of the fleet, a policy (--policy) or into one phase (--phase); demotions go on (through the API, operator role)")
            { policy, phase, reason, lasting };
        return command.WithAction(async (context, parse, cancellationToken) =>
        {
            var paused = await context.Api.PostAsync<PromotionsPaused>("api/v1/pauses",
                new PauseRequest(parse.GetValue(policy), parse.GetValue(phase), parse.GetValue(reason), parse.GetValue(lasting)), cancellationToken);
            context.Print(paused, () => Console.WriteLine($"pause {paused.PauseId}: promotions of {Named(paused.Policy, paused.Phase)} paused by {paused.Actor}" +
                (paused.For is { } span ? $" for {span} of event time" : " until resumed")));
            return 0;
        });
    }

    public static Command Resume()
    {
        var (policy, phase) = Scope();
        var reason = WriteCommands.Reason("why promotions may go on");
        var command = new Command("resume", "Resumes promotions an operator paused, in the same scope (through the API, operator role)") { policy, phase, reason };
        return command.WithAction(async (context, parse, cancellationToken) =>
        {
            var resumed = await context.Api.PostAsync<PromotionsResumed>("api/v1/pauses/resume",
                new ResumeRequest(parse.GetValue(policy), parse.GetValue(phase), parse.GetValue(reason)), cancellationToken);
            context.Print(resumed, () => Console.WriteLine($"promotions of {Named(resumed.Policy, resumed.Phase)} resumed by {resumed.Actor}"));
            return 0;
        });
    }

    static (Option<string?> Policy, Option<string?> Phase) Scope() =>
        (new Option<string?>("--policy") { Description = "the policy; none: the whole fleet" },
         new Option<string?>("--phase") { Description = "only promotions into this phase of the policy (needs --policy)" });

    static string Named(string? policy, string? phase) => policy is null ? "the fleet" : phase is null ? policy : $"{policy} into {phase}";
}
