using System.Globalization;
using Streaming.Contracts.History;
using Streaming.Lifecycle;

namespace Streaming.Api.Jobs;

/// <summary>
/// What holds a job besides its criteria, in the order the Promoter weighs them: its silence, an approval gate, an
/// operator's pause of its next gate, its policy's promotion windows; each with since and until when in event time.
/// </summary>
public static class JobHolds
{
    /// <param name="row">The job's row.</param>
    /// <param name="policy">The policy version that governs it, if any.</param>
    /// <param name="watermark">The fleet's event time as the Promoter saved it (null: no signal yet).</param>
    /// <param name="pauses">The pauses in force.</param>
    /// <param name="request">The request for approval the job waits on, when its row says it waits.</param>
    public static IReadOnlyList<JobHold> Of(JobRow row, LifecyclePolicy? policy, DateTimeOffset? watermark, FleetPauses pauses, ApprovalRequested? request)
    {
        var holds = new List<JobHold>();
        if (row.Flags.Contains(LifecycleFlags.Silent))
        {
            holds.Add(Silence(row, policy, watermark));
        }
        if (policy?.NextPhase(row.Phase) is not { } next)
        {
            return holds;
        }
        if (row.Flags.Contains(LifecycleFlags.AwaitingApproval))
        {
            var (from, to, since) = request is null ? (row.Phase, next, (DateTimeOffset?)null) : (request.From, request.To, request.RequestedAt);
            var waits = $"awaits approval at gate {from} → {to}" + (since is { } at ? $" since {JobReasons.Time(at)}" : "");
            holds.Add(row.Flags.Contains(LifecycleFlags.Approved)
                ? new JobHold(JobHold.Approved, $"approved at gate {from} → {to}: moves at its next signal if the criteria still hold", null, since, null)
                : new JobHold(JobHold.AwaitingApproval, waits + "; an operator approves it below", waits, since, null));
        }
        if (pauses.Covering(policy.Name, next) is { } pause)
        {
            var scope = pause.Policy is null ? "the fleet" : pause.Phase is null ? $"policy {pause.Policy}" : $"gate {row.Phase}→{pause.Phase}";
            var held = $"held by the pause of {scope} by {pause.Actor} " + (pause.Until is { } until ? $"until {JobReasons.Time(until)}" : "until resumed");
            holds.Add(new JobHold(JobHold.Paused, $"{held}: {pause.Reason}", held, pause.At, pause.Until, pause.Actor, pause.Reason));
        }
        if (watermark is { } now && !policy.Gating.InWindow(now) && WindowOpenings.Next(policy.Gating.Windows, now) is { } opening)
        {
            var local = TimeZoneInfo.ConvertTime(opening.At, opening.Window.Zone);
            var outside = $"outside the promotion window; next opens {local.ToString("ddd HH:mm", CultureInfo.InvariantCulture)} {opening.Window.Zone.Id}";
            holds.Add(new JobHold(JobHold.OutsideWindow, $"{outside} ({JobReasons.Time(opening.At)} UTC; windows: {string.Join("; ", policy.Gating.Windows.Select(w => w.Describe()))})",
                outside, null, opening.At));
        }
        return holds;
    }

    /// <summary>The pauses in force, looked up the way the Promoter looks them up (the narrowest scope first).</summary>
    public static FleetPauses Book(IEnumerable<Pause> pauses)
    {
        var book = new FleetPauses();
        foreach (var pause in pauses)
        {
            book.Restore(pause);
        }
        return book;
    }

    static JobHold Silence(JobRow row, LifecyclePolicy? policy, DateTimeOffset? watermark)
    {
        var threshold = policy?.Gating.Silence?.After;
        var since = row.LastSignalAt + threshold;
        var silent = since is { } at ? $"silent since {JobReasons.Time(at)}" : "silent";
        var text = silent + $": no signal since {JobReasons.Time(row.LastSignalAt)}" +
            (threshold is { } after ? $", more than the policy's {JobReasons.Duration(after)}" : "") +
            (watermark is { } now ? $" before the fleet's latest ({JobReasons.Time(now)})" : "");
        return new JobHold(JobHold.Silent, text, silent + ": held until it signals", since, null);
    }
}
