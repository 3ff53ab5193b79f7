namespace Streaming.Lifecycle;

/// <summary>Whether a promotion the policy wants may happen now, and if not, why (for logs and the job's row).</summary>
public sealed record FleetAdmission(bool Admitted, string? WaitingFor)
{
    public static FleetAdmission Yes { get; } = new(true, null);
}
