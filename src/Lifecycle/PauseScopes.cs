namespace Streaming.Lifecycle;

/// <summary>How a pause's scope is named: <c>the fleet</c>, <c>policy cdc-migration</c>, <c>cdc-migration into cleanup</c>.</summary>
public static class PauseScopes
{
    public static string Describe(string? policy, string? phase) =>
        policy is null ? "the fleet" : phase is null ? $"policy {policy}" : $"{policy} into {phase}";

    /// <summary>One key per scope: a new pause of a scope replaces the one in force there.</summary>
    public static string Key(string? policy, string? phase) => policy is null ? "" : phase is null ? policy : policy + "/" + phase;
}
