namespace Streaming.Lifecycle;

/// <summary>What a policy does with a job that has gone silent: keep it where it is, or send it back one phase once.</summary>
public enum SilenceAction
{
    Hold,
    Demote,
}
