namespace Streaming.JobClient.Phases;

/// <summary>The phase Streaming assigned the job, with why: what a job's code switches its behaviour on.</summary>
public sealed record PhaseAssignment(
    string JobId,
    string Phase,
    string PreviousPhase,
    string Direction,
    string Reason,
    string Policy,
    DateTimeOffset DecidedAt,
    long Version,
    Guid EventId,
    bool AtStartup);
