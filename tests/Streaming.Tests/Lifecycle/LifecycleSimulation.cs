using Streaming.Lifecycle;

namespace Streaming.Tests.Lifecycle;

/// <summary>
/// One job run through <c>Evolve → Decide → Apply</c> the way the Promoter runs it, in event time. The simulated job
/// follows each decision <see cref="AckDelay"/> after it is made; until then it keeps reporting its old phase.
/// Every signal and every decision takes the next stream version, as they do in the job's stream.
/// </summary>
public sealed class LifecycleSimulation
{
    public static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    readonly List<SignalSample> _samples = [];
    readonly List<PhaseDecision> _decisions = [];
    readonly List<JobOverride> _endedOverrides = [];
    PhaseDecision? _undelivered;
    long _version;
    long _seq;

    public LifecycleSimulation(string startPhase = "shadow", LifecyclePolicy? policy = null, string jobId = "job-1")
    {
        Policy = policy ?? DefaultPolicies.CdcMigration;
        JobPhase = startPhase;
        State = JobLifecycleDecider.Initial(jobId);
    }

    public LifecyclePolicy Policy { get; }

    public JobLifecycle State { get; private set; }

    /// <summary>The phase the simulated job runs in (and reports).</summary>
    public string JobPhase { get; private set; }

    /// <summary>How long the job takes to follow a decision.</summary>
    public TimeSpan AckDelay { get; init; } = TimeSpan.Zero;

    public IReadOnlyList<SignalSample> Samples => _samples;

    public IReadOnlyList<PhaseDecision> Decisions => _decisions;

    /// <summary>Holds and pins that ended: expired, released or replaced.</summary>
    public IReadOnlyList<JobOverride> EndedOverrides => _endedOverrides;

    public CriteriaReport Report => JobLifecycleDecider.Evaluate(State, Policy);

    public static DateTimeOffset At(double minute) => Start.AddMinutes(minute);

    /// <summary>Runs recorded samples through a fresh job and returns the decisions made.</summary>
    public static IReadOnlyList<PhaseDecision> Run(IEnumerable<SignalSample> samples, LifecyclePolicy? policy = null, string jobId = "job-1")
    {
        var simulation = new LifecycleSimulation(policy: policy, jobId: jobId);
        foreach (var sample in samples)
        {
            simulation.Record(sample);
        }
        return simulation.Decisions;
    }

    /// <summary>The job signals once a minute from <paramref name="fromMinute"/> to <paramref name="toMinute"/> (inclusive), in the phase it runs in.</summary>
    public IReadOnlyList<PhaseDecision> Minutes(int fromMinute, int toMinute, IReadOnlyDictionary<string, double> metrics)
    {
        var decisions = new List<PhaseDecision>();
        for (var minute = fromMinute; minute <= toMinute; minute++)
        {
            if (Signal(minute, metrics) is { } decision)
            {
                decisions.Add(decision);
            }
        }
        return decisions;
    }

    /// <summary>The job signals once a minute from <paramref name="fromMinute"/> to <paramref name="toMinute"/> (inclusive), reporting <paramref name="phase"/>.</summary>
    public IReadOnlyList<PhaseDecision> Minutes(int fromMinute, int toMinute, string phase, IReadOnlyDictionary<string, double> metrics)
    {
        var decisions = new List<PhaseDecision>();
        for (var minute = fromMinute; minute <= toMinute; minute++)
        {
            if (Signal(minute, phase, metrics) is { } decision)
            {
                decisions.Add(decision);
            }
        }
        return decisions;
    }

    /// <summary>The job signals at <paramref name="minute"/> in the phase it runs in.</summary>
    public PhaseDecision? Signal(double minute, IReadOnlyDictionary<string, double> metrics)
    {
        if (_undelivered is { } decision && decision.DecidedAt + AckDelay < At(minute))
        {
            JobPhase = decision.To;
            _undelivered = null;
        }
        return Signal(minute, JobPhase, metrics);
    }

    /// <summary>The job signals at <paramref name="minute"/>, reporting <paramref name="phase"/> whatever it was told.</summary>
    public PhaseDecision? Signal(double minute, string phase, IReadOnlyDictionary<string, double> metrics) =>
        Record(new SignalSample(_version + 1, _seq + 1, At(minute), phase, metrics));

    /// <summary>Records a signal as stored, decides, and applies the decision if there is one.</summary>
    public PhaseDecision? Record(SignalSample sample)
    {
        _version = Math.Max(_version, sample.Version);
        _seq = Math.Max(_seq, sample.Seq);
        _samples.Add(sample);
        State = JobLifecycleDecider.Evolve(State, sample, Policy);
        var expiry = JobLifecycleDecider.Expire(State);
        if (expiry.Ended is { } ended)
        {
            _endedOverrides.Add(ended);
            State = expiry.State;
            _version++;
        }
        if (JobLifecycleDecider.Decide(State, Policy) is not { } decision)
        {
            return null;
        }
        return Record(decision);
    }

    /// <summary>An operator's override, carried out as the Promoter carries it out; returns the phase change it made.</summary>
    public PhaseDecision? Override(OverrideKind kind, string? phase = null, double? untilMinute = null)
    {
        var @override = new JobOverride(Guid.NewGuid(), kind, phase, "alice", "testing", Start, untilMinute is { } minute ? At(minute) : null);
        var outcome = JobLifecycleDecider.Override(State, @override, Policy, ++_version);
        if (outcome.Ended is { } ended)
        {
            _endedOverrides.Add(ended);
        }
        State = outcome.State;
        return outcome.Change is { } change ? Record(change) : null;
    }

    PhaseDecision Record(PhaseDecision decision)
    {
        State = JobLifecycleDecider.Apply(State, decision);
        _decisions.Add(decision);
        _undelivered = decision;
        _version++;
        return decision;
    }
}
