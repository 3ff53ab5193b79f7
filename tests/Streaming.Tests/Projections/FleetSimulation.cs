using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Promoter.Decisions;

namespace Streaming.Tests.Projections;

/// <summary>
/// Many jobs and the operators' commands, written as the log would hold them and run through the Promoter's
/// <see cref="DecisionEngine"/> in memory. Every job follows its decisions at once (its next signal reports the new
/// phase), and every decision and deferral takes a stream version, as in the store.
/// </summary>
public sealed class FleetSimulation
{
    public static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _phases = new(StringComparer.Ordinal);
    long _position;

    public FleetSimulation(string policyDocument)
    {
        Replay = new DecisionReplay(new DecisionEngine(new ActivePolicies(NullLogger.Instance), new KnownIssues(), NullLogger.Instance));
        var policy = PolicyDocument.Parse(policyDocument, 1).Policy ?? throw new ArgumentException("invalid test policy");
        Append(PolicyPublished.StreamFor(policy.Name), PolicyPublished.EventType,
            ContractsJson.Serialize(new PolicyPublished(policy.Name, 1, policyDocument, "sha", "tests", Start)), Start, null);
    }

    public DecisionReplay Replay { get; }

    public IReadOnlyList<PhaseDecision> Decisions => Replay.Decisions;

    public IReadOnlyList<PromotionDeferred> Deferrals => Replay.Deferrals;

    public static DateTimeOffset At(double minute) => Start.AddMinutes(minute);

    public string PhaseOf(string job) => _phases[job];

    /// <summary>Each job signals once a minute over the minutes given, in the phase it was last moved to (or <paramref name="startPhase"/>).</summary>
    public void Minutes(IEnumerable<string> jobs, int from, int to, IReadOnlyDictionary<string, double> metrics, string startPhase = "a",
        IReadOnlyDictionary<string, string>? labels = null)
    {
        for (var minute = from; minute <= to; minute++)
        {
            foreach (var job in jobs)
            {
                Signal(job, minute, metrics, startPhase, labels);
            }
        }
    }

    public void Signal(string job, double minute, IReadOnlyDictionary<string, double> metrics, string startPhase = "a", IReadOnlyDictionary<string, string>? labels = null)
    {
        var phase = _phases.TryGetValue(job, out var current) ? current : _phases[job] = startPhase;
        var seq = _versions.GetValueOrDefault(job) + 1;
        var signal = new SignalRecorded(job, seq, At(minute), phase, metrics, labels ?? new Dictionary<string, string>(), null);
        Append(job, SignalRecorded.EventType, ContractsJson.Serialize(signal), At(minute), seq);
    }

    public void OpenIssue(string id, double minute, IReadOnlyList<string> jobs, IReadOnlyDictionary<string, string>? labels = null) =>
        Append(KnownIssueOpened.StreamFor(id), KnownIssueOpened.EventType,
            ContractsJson.Serialize(new KnownIssueOpened(id, "test issue", jobs, labels ?? new Dictionary<string, string>(), "alice", At(minute))), At(minute), null);

    public void ResolveIssue(string id, double minute) =>
        Append(KnownIssueOpened.StreamFor(id), KnownIssueResolved.EventType,
            ContractsJson.Serialize(new KnownIssueResolved(id, "alice", "fixed", At(minute))), At(minute), null);

    public void ResetBreaker(string policy, string phase, double minute) =>
        Append(CircuitBreakerChanged.StreamFor(policy, phase), CircuitBreakerResetRequested.EventType,
            ContractsJson.Serialize(new CircuitBreakerResetRequested(policy, phase, "alice", "checked by hand", At(minute))), At(minute), null);

    void Append(string stream, string type, string data, DateTimeOffset at, long? seq)
    {
        var version = _versions[stream] = _versions.GetValueOrDefault(stream) + 1;
        _position++;
        var before = Replay.Decisions.Count;
        var deferredBefore = Replay.Deferrals.Count;
        Replay.Apply(new RecordedEvent(_position, _position, stream, version, Guid.NewGuid(), type, data, "{}", seq, at, at));
        for (var i = before; i < Replay.Decisions.Count; i++)
        {
            var decision = Replay.Decisions[i];
            _phases[decision.JobId] = decision.To;
            _versions[decision.JobId] = _versions.GetValueOrDefault(decision.JobId) + 1;
            _position++;
        }
        for (var i = deferredBefore; i < Replay.Deferrals.Count; i++)
        {
            _versions[Replay.Deferrals[i].JobId] = _versions.GetValueOrDefault(Replay.Deferrals[i].JobId) + 1;
            _position++;
        }
    }
}
