namespace Streaming.Projector;

/// <summary>How often the Projector writes its job states (configuration section <c>Projector</c>).</summary>
public sealed class ProjectorOptions
{
    public const string Section = "Projector";

    /// <summary>
    /// How soon after its last write the Projector writes its changed job states, with its checkpoint, while the log is
    /// quiet; at most five times this under load. A shorter interval shows each signal sooner and writes more often.
    /// </summary>
    public TimeSpan StateWriteInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a job's change that moves only its metrics (its window, streaks, last signal) may wait to be written while
    /// the log is busy: a job that signals several times within it is written once. A change anything else moves (a new
    /// job, a phase, an acknowledgement, a flag, a label, a queue place) is written at the next write, and a quiet log
    /// writes everything. Longer: fewer writes with many jobs, older metrics in the jobs list under load (a job's own
    /// page folds in the signals stored after its row).
    /// </summary>
    public TimeSpan MetricsWriteInterval { get; set; } = TimeSpan.FromSeconds(30);
}
