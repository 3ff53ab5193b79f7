namespace Streaming.Lifecycle;

/// <summary>What an operator's override does to a job.</summary>
public enum OverrideKind
{
    /// <summary>The policy moves the job nowhere while the hold lasts.</summary>
    Hold,

    /// <summary>Ends the job's hold or pin and lifts a quarantine: the job is the policy's again.</summary>
    Release,

    /// <summary>Moves the job to a phase and keeps it there while the pin lasts.</summary>
    Pin,

    /// <summary>Moves the job to the next phase now; the policy judges it from there.</summary>
    ForcePromote,

    /// <summary>Moves the job to the previous phase now; the policy judges it from there.</summary>
    ForceDemote,
}
