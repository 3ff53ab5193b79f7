using System.Security.Cryptography;
using System.Text;

namespace Streaming.Contracts.History;

/// <summary>
/// Event ids derived from what an event is (RFC 4122 name-based, SHA-1), so a redelivered signal or a re-made
/// decision gets the id it had the first time and the store can refuse it.
/// </summary>
public static class EventIds
{
    static readonly Guid Namespace = new("5d2f6c1e-8a43-4b7e-9c0d-3f1a2b4c5d6e");

    public static Guid ForSignal(string jobId, long seq) => Create($"signal:{jobId}:{seq}");

    public static Guid ForDecision(string jobId, long decidingVersion) => Create($"decision:{jobId}:{decidingVersion}");

    public static Guid ForDeferral(string jobId, long decidingVersion) => Create($"deferral:{jobId}:{decidingVersion}");

    public static Guid ForPolicy(string name, int version) => Create($"policy:{name}:{version}");

    public static Guid ForShadowPolicy(string name, int version) => Create($"shadow-policy:{name}:{version}");

    public static Guid ForOverrideEnd(Guid overrideId) => Create($"override-ended:{overrideId}");

    public static Guid ForBreakerChange(string policy, string phase, int sequence) => Create($"breaker:{policy}:{phase}:{sequence}");

    public static Guid ForShadowDecision(string policy, string jobId, long decidingVersion) => Create($"shadow:{policy}:{jobId}:{decidingVersion}");

    public static Guid ForApprovalRequest(string jobId, long decidingVersion) => Create($"approval-requested:{jobId}:{decidingVersion}");

    public static Guid ForApprovalLapse(string jobId, long decidingVersion) => Create($"approval-lapsed:{jobId}:{decidingVersion}");
    public static Guid ForSilence(string jobId, long lastVersion) => Create($"silence:{jobId}:{lastVersion}");

    public static Guid ForAdmissionRequest(string jobId, long decidingVersion) => Create($"admission-requested:{jobId}:{decidingVersion}");

    public static Guid ForAdmissionGrant(Guid requestId) => Create($"admission-granted:{requestId}");

    public static Guid ForAdmissionRelease(Guid requestId) => Create($"admission-released:{requestId}");

    /// <summary>A report to a breaker's owner (<see cref="BreakerCountReported"/>), from the job's event that caused it and the job's phase changes then.</summary>
    public static Guid ForBreakerCount(string kind, string policy, string phase, string jobId, long jobVersion, int phaseChanges) =>
        Create($"breaker-count:{kind}:{policy}:{phase}:{jobId}:{jobVersion}:{phaseChanges}");

    /// <summary>A breaker change the owner of the control partition records (Owner mode), from the event that caused it.</summary>
    public static Guid ForOwnedBreakerChange(Guid causeId) => Create($"breaker-changed:{causeId}");

    public static Guid ForPauseExpiry(Guid pauseId) => Create($"pause-expired:{pauseId}");

    static Guid Create(string name)
    {
        Span<byte> input = stackalloc byte[16 + Encoding.UTF8.GetMaxByteCount(name.Length)];
        Namespace.TryWriteBytes(input, bigEndian: true, out _);
        var length = 16 + Encoding.UTF8.GetBytes(name, input[16..]);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input[..length], hash);
        hash[6] = (byte)((hash[6] & 0x0F) | 0x50);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16], bigEndian: true);
    }
}
