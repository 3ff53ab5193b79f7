using System.CommandLine;
using Streaming.Api.Approvals;
using Streaming.Contracts.History;

namespace Streaming.Cli.Commands;

/// <summary>
/// <c>approve job|batch</c>: approves the move a job waits for at an approval gate, or the waiting jobs a selector
/// matches, through the API (operator role); the approval's actor is the token's holder.
/// </summary>
public static class ApprovalCommands
{
    const int ListedJobs = 10;

    public static Command Create() => new("approve", "Approves jobs waiting at an approval gate (through the API, operator role)") { Job(), Batch() };

    static Command Job()
    {
        var job = new Argument<string>("job") { Description = "the job id" };
        var reason = WriteCommands.Reason("why: every approval says it");
        var command = new Command("job", "Approves the move one job waits for; it is made at the job's next signal while the criteria hold") { job, reason };
        return command.WithAction(async (context, parse, cancellationToken) =>
        {
            var granted = await context.Api.PostAsync<ApprovalGranted>($"api/v1/jobs/{Uri.EscapeDataString(parse.GetValue(job)!)}/approve",
                new ApproveRequest(parse.GetValue(reason)), cancellationToken);
            context.Print(granted, () => Console.WriteLine($"approval {granted.ApprovalId}: {granted.JobId} {granted.From} -> {granted.To} approved by {granted.Actor}"));
            return 0;
        });
    }

    static Command Batch()
    {
        var policy = new Option<string?>("--policy") { Description = "jobs under this policy" };
        var phase = new Option<string?>("--phase") { Description = "jobs waiting in this phase" };
        var labels = LabelOption.Create("NAME=VALUE: jobs with these labels (repeatable; all must match)");
        var max = new Option<int>("--max") { Required = true, Description = $"the most jobs to approve (1 to {ApprovalEndpoints.MostBatch}); more matching is refused" };
        var dryRun = new Option<bool>("--dry-run") { Description = "only count the jobs matched, approving none" };
        var reason = new Option<string?>("--reason") { Description = "why: every approval says it (required unless --dry-run)" };
        var command = new Command("batch", "Approves the waiting jobs that --policy, --phase and --label match (at least one of them), up to --max")
            { policy, phase, labels, max, dryRun, reason };
        return command.WithAction(async (context, parse, cancellationToken) =>
        {
            var result = await context.Api.PostAsync<BatchApprovalResult>("api/v1/approvals", new BatchApprovalRequest(parse.GetValue(reason),
                parse.GetValue(policy), parse.GetValue(phase), LabelOption.Selector(parse, labels), parse.GetValue(max), parse.GetValue(dryRun)), cancellationToken);
            context.Print(result, () =>
            {
                Console.WriteLine(result.DryRun
                    ? $"dry run: {result.Matched} job(s) waiting match {result.Scope}; none approved"
                    : $"{result.Approved} of {result.Matched} job(s) matching {result.Scope} approved");
                if (result.Jobs.Count > 0)
                {
                    Console.WriteLine($"  {string.Join(", ", result.Jobs.Take(ListedJobs))}{(result.Matched > ListedJobs ? ", …" : "")}");
                }
            });
            return 0;
        });
    }
}
