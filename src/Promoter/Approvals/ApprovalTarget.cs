namespace Streaming.Promoter.Approvals;

/// <summary>A job to approve, and the gate (<see cref="From"/> → <see cref="To"/>) whose move the approval permits.</summary>
public sealed record ApprovalTarget(string JobId, string From, string To);
