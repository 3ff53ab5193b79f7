namespace Streaming.Lifecycle;

/// <summary>The names override kinds have on the command line and in stored events.</summary>
public static class OverrideKinds
{
    public static string Name(OverrideKind kind) => kind switch
    {
        OverrideKind.Hold => "hold",
        OverrideKind.Release => "release",
        OverrideKind.Pin => "pin",
        OverrideKind.ForcePromote => "force-promote",
        OverrideKind.ForceDemote => "force-demote",
        _ => throw new InvalidOperationException($"unknown override kind {kind}"),
    };

    public static bool TryParse(string? name, out OverrideKind kind)
    {
        foreach (var candidate in Enum.GetValues<OverrideKind>())
        {
            if (string.Equals(Name(candidate), name, StringComparison.Ordinal))
            {
                kind = candidate;
                return true;
            }
        }
        kind = default;
        return false;
    }
}
