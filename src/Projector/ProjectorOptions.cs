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
}
