using Streaming.Lifecycle;

namespace Streaming.Api.Fleet;

/// <summary>
/// The gates at a glance: the fleet's event-time watermark, how many jobs are silent, the operators' pauses in force
/// (who, why, until when in event time) and each policy's promotion windows, open or closed at the watermark.
/// </summary>
public sealed record GateSummary(DateTimeOffset? Watermark, int Silent, IReadOnlyList<PauseState> Pauses, IReadOnlyList<WindowState> Windows);

/// <summary>A pause in force: its scope (no policy: the fleet; no phase: the whole policy).</summary>
public sealed record PauseState(string Scope, string? Policy, string? Phase, string Actor, string Reason, DateTimeOffset At, DateTimeOffset? Until)
{
    public static PauseState Of(Pause pause) => new(pause.Scope, pause.Policy, pause.Phase, pause.Actor, pause.Reason, pause.At, pause.Until);
}

/// <summary>A policy's promotion windows and whether they are open at the fleet's event time (null: no signal yet).</summary>
public sealed record WindowState(string Policy, IReadOnlyList<string> Windows, bool? Open, bool DemotionsOutside);
