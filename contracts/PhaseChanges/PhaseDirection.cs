namespace Streaming.Contracts.PhaseChanges;

/// <summary>The wire names of a phase change's direction.</summary>
public static class PhaseDirection
{
    public const string Promote = "promote";
    public const string Demote = "demote";
    public const string Override = "override";
}
