namespace Streaming.Lifecycle;

/// <summary>
/// A job whose last signal is more than <see cref="After"/> older than the fleet's event-time watermark is silent: it is
/// never promoted while silent, and with <see cref="SilenceAction.Demote"/> it is sent back one phase, once.
/// </summary>
public sealed record SilenceRule(TimeSpan After, SilenceAction Action);
