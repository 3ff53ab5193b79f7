namespace Streaming.Lifecycle.Approvals;

/// <summary>
/// A job whose criteria passed a gate that needs approval, waiting in <see cref="From"/> since <see cref="RequestedAt"/>
/// (its stream's version <see cref="RequestVersion"/> decided it) under <see cref="Policy"/> (an id, <c>name@version</c>).
/// <see cref="Grant"/> is the approval given for it, until the move consumes it.
/// </summary>
public sealed record PendingApproval(
    string JobId,
    string Policy,
    string From,
    string To,
    DateTimeOffset RequestedAt,
    long RequestVersion,
    ApprovalGrant? Grant = null)
{
    public string PolicyName => Policy.Split('@')[0];
}
