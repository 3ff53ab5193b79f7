using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Promoter.Decisions;
using Streaming.Tests.Projections;

namespace Streaming.Tests.Admissions;

/// <summary>
/// Several Promoters in Owner mode, in memory: each <see cref="DecisionEngine"/> holds its share of the jobs and reads
/// the control partition (the policy and the admission streams) at its own pace; the owner's grants, and every
/// Promoter's requests and releases, are appended to it once each (the store refuses a second copy of an event id).
/// Jobs follow their decisions at once. It checks as it goes that no job is promoted into a waved phase without an open
/// grant, and counts the jobs promoted with a grant not given back yet. Grants and breaker changes are stored only as
/// the owners record them.
/// </summary>
public sealed class OwnerModeFleet
{
    readonly List<RecordedEvent> _control = [];
    readonly List<RecordedEvent> _log = [];
    readonly HashSet<Guid> _stored = [];
    readonly Dictionary<string, long> _versions = new(StringComparer.Ordinal);
    readonly Dictionary<string, string> _phases = new(StringComparer.Ordinal);
    readonly Dictionary<string, Guid> _openGrants = new(StringComparer.Ordinal);
    readonly Dictionary<Guid, string> _promotedWith = [];
    readonly List<Member> _members = [];
    readonly string _phase;
    readonly bool _waved;
    long _position;

    public OwnerModeFleet(string policyDocument, string wavedPhase, int jobPromoters, int owners = 1)
    {
        _phase = wavedPhase;
        var policy = PolicyDocument.Parse(policyDocument, 1).Policy ?? throw new ArgumentException("invalid test policy");
        _waved = policy.AdmissionGate(wavedPhase)?.Wave is not null;
        for (var i = 0; i < jobPromoters; i++)
        {
            _members.Add(new Member(i, Engine(), owner: i < owners - 1));
        }
        // The owner of the control partition holds no job here.
        _members.Add(new Member(-1, Engine(), owner: owners > 0));
        AppendControl(PolicyPublished.StreamFor(policy.Name),
            new EventToAppend(Guid.NewGuid(), PolicyPublished.EventType,
                ContractsJson.Serialize(new PolicyPublished(policy.Name, 1, policyDocument, "sha", "tests", FleetSimulation.Start)), "{}", FleetSimulation.Start));
        DeliverAll();
    }

    static DecisionReplay Engine() =>
        new(new DecisionEngine(new ActivePolicies(NullLogger.Instance), new KnownIssues(), NullLogger.Instance) { Admissions = AdmissionMode.Owner });

    public IReadOnlyList<RecordedEvent> Control => _control;

    /// <summary>Every event in the order it was stored: what a backtest reads.</summary>
    public IReadOnlyList<RecordedEvent> Log => _log;

    /// <summary>The promotions into the phase given (the waved phase).</summary>
    public List<PhaseDecision> Promotions { get; } = [];

    /// <summary>Every decision, in the order the Promoters made them.</summary>
    public List<PhaseDecision> Decisions { get; } = [];

    /// <summary>Every promotion held back, in the order the Promoters recorded them.</summary>
    public List<PromotionDeferred> Deferrals { get; } = [];

    /// <summary>The breaker changes in the control partition, in its order.</summary>
    public IReadOnlyList<CircuitBreakerChanged> BreakerChanges =>
        [.. _control.Where(e => e.Type == CircuitBreakerChanged.EventType).Select(e => ContractsJson.Deserialize<CircuitBreakerChanged>(e.Data))];

    /// <summary>The most jobs ever promoted into the waved phase with a grant not given back yet.</summary>
    public int MostInFlight { get; private set; }

    /// <summary>Grants that were folded again by another owner (their copies refused by the store).</summary>
    public int RefusedCopies { get; private set; }

    public string PhaseOf(string job) => _phases[job];

    /// <summary>A member that starts afresh (a new owner after the last one was killed) and folds the control partition from its start.</summary>
    public void StartOwner() => _members.Add(new Member(-1, Engine(), owner: true));

    /// <summary>Which Promoter holds the job (0, 1, …).</summary>
    public int ShareOf(string job) => job.Sum(c => c) % _members.Count(m => m.Index >= 0);

    public void Signal(string job, double minute, IReadOnlyDictionary<string, double> metrics, string startPhase = "a")
    {
        var member = _members[ShareOf(job)];
        var phase = _phases.TryGetValue(job, out var current) ? current : _phases[job] = startPhase;
        var seq = _versions.GetValueOrDefault(job) + 1;
        var at = FleetSimulation.At(minute);
        var signal = new SignalRecorded(job, seq, at, phase, metrics, new Dictionary<string, string>(), null);
        var version = _versions[job] = seq;
        _position++;
        var recorded = new RecordedEvent(_position, _position, job, version, EventIds.ForSignal(job, seq), SignalRecorded.EventType, ContractsJson.Serialize(signal), "{}", seq, at, at);
        _log.Add(recorded);
        member.Replay.Apply(recorded);
        Collect(member);
    }

    /// <summary>Each member reads what the control partition holds, the owners first; <paramref name="random"/> lets some lag one round.</summary>
    public void DeliverAll(Random? random = null)
    {
        foreach (var member in _members.OrderByDescending(m => m.Owner).ToList())
        {
            if (random is null || random.Next(3) > 0)
            {
                Deliver(member);
            }
        }
    }

    void Deliver(Member member)
    {
        while (member.Cursor < _control.Count)
        {
            member.Replay.Apply(_control[member.Cursor++]);
            Collect(member);
        }
    }

    void Collect(Member member)
    {
        var replay = member.Replay;
        for (; member.Decisions < replay.Decisions.Count; member.Decisions++)
        {
            var decision = replay.Decisions[member.Decisions];
            _phases[decision.JobId] = decision.To;
            Store(decision.JobId, PhaseChanged.EventType, ContractsJson.Serialize(SignalSamples.ToEvent(decision)), decision.DecidedAt);
            Decisions.Add(decision);
            if (decision.Direction == PhaseDecision.Promote && decision.To == _phase && !_waved)
            {
                Promotions.Add(decision);
            }
            else if (decision.Direction == PhaseDecision.Promote && decision.To == _phase)
            {
                if (!_openGrants.TryGetValue(decision.JobId, out var grant) || _promotedWith.ContainsKey(grant))
                {
                    throw new InvalidOperationException($"{decision.JobId} was promoted into {_phase} at {decision.DecidedAt:u} without an open grant");
                }
                _promotedWith[grant] = decision.JobId;
                MostInFlight = Math.Max(MostInFlight, _promotedWith.Count);
                Promotions.Add(decision);
            }
        }
        for (; member.Deferrals < replay.Deferrals.Count; member.Deferrals++)
        {
            var deferral = replay.Deferrals[member.Deferrals];
            Deferrals.Add(deferral);
            Store(deferral.JobId, PromotionDeferred.EventType, ContractsJson.Serialize(deferral), deferral.DecidedAt);
        }
        for (; member.Appends < replay.Appends.Count; member.Appends++)
        {
            var append = replay.Appends[member.Appends];
            if (!ControlStreams.IsControl(append.StreamId))
            {
                _versions[append.StreamId] = _versions.GetValueOrDefault(append.StreamId) + 1;
                _position++;
                continue;
            }
            if (append.Event.Type is AdmissionGranted.EventType or CircuitBreakerChanged.EventType && !member.Owner)
            {
                continue;
            }
            AppendControl(append.StreamId, append.Event);
        }
    }

    /// <summary>An operator trips a breaker by hand (through the API: a control event).</summary>
    public void TripBreaker(string policy, string phase, double minute) =>
        AppendControl(CircuitBreakerChanged.StreamFor(policy, phase), new EventToAppend(Guid.NewGuid(), CircuitBreakerTripRequested.EventType,
            ContractsJson.Serialize(new CircuitBreakerTripRequested(policy, phase, "alice", "migration target degraded", FleetSimulation.At(minute))), "{}",
            FleetSimulation.At(minute)));

    /// <summary>An operator resets a breaker (through the API: a control event).</summary>
    public void ResetBreaker(string policy, string phase, double minute) =>
        AppendControl(CircuitBreakerChanged.StreamFor(policy, phase), new EventToAppend(Guid.NewGuid(), CircuitBreakerResetRequested.EventType,
            ContractsJson.Serialize(new CircuitBreakerResetRequested(policy, phase, "alice", "checked by hand", FleetSimulation.At(minute))), "{}",
            FleetSimulation.At(minute)));

    void Store(string stream, string type, string data, DateTimeOffset at)
    {
        var version = _versions[stream] = _versions.GetValueOrDefault(stream) + 1;
        _position++;
        _log.Add(new RecordedEvent(_position, _position, stream, version, Guid.NewGuid(), type, data, "{}", null, at, at));
    }

    void AppendControl(string stream, EventToAppend appended)
    {
        if (!_stored.Add(appended.EventId))
        {
            RefusedCopies++;
            return;
        }
        var version = _versions[stream] = _versions.GetValueOrDefault(stream) + 1;
        _position++;
        var recorded = new RecordedEvent(_position, _position, stream, version, appended.EventId, appended.Type, appended.Data, appended.Metadata, null,
            appended.EventTime, appended.EventTime);
        _control.Add(recorded);
        _log.Add(recorded);
        switch (appended.Type)
        {
            case AdmissionGranted.EventType:
                var granted = ContractsJson.Deserialize<AdmissionGranted>(appended.Data);
                _openGrants[granted.JobId] = granted.RequestId;
                break;
            case AdmissionReleased.EventType:
                var released = ContractsJson.Deserialize<AdmissionReleased>(appended.Data);
                _promotedWith.Remove(released.RequestId);
                if (_openGrants.TryGetValue(released.JobId, out var open) && open == released.RequestId)
                {
                    _openGrants.Remove(released.JobId);
                }
                break;
        }
    }

    sealed class Member(int index, DecisionReplay replay, bool owner)
    {
        public int Index { get; } = index;
        public DecisionReplay Replay { get; } = replay;
        public bool Owner { get; } = owner;
        public int Cursor { get; set; }
        public int Decisions { get; set; }
        public int Deferrals { get; set; }
        public int Appends { get; set; }
    }
}
