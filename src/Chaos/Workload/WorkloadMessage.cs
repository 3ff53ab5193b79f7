namespace Streaming.Chaos.Workload;

/// <summary>One message of the workload: the signal of <see cref="JobId"/> with <see cref="Seq"/>, or a byte-for-byte repeat of one.</summary>
public sealed record WorkloadMessage(string JobId, long Seq, byte[] Key, byte[] Value, bool IsDuplicate);
