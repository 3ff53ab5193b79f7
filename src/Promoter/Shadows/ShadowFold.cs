using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;

namespace Streaming.Promoter.Shadows;

/// <summary>
/// Runs the shadow policies (published to <c>shadow-policy:{name}</c>) live beside the policies in force. Each follows
/// every job it selects through the job's real phase changes and records, once per phase, what it would do
/// (<c>shadow-decision/v1</c> in <c>shadow:{name}</c>) without doing it. <see cref="Agreement"/> counts how its
/// wishes compare with the real moves, and is saved with the checkpoint.
/// </summary>
public sealed partial class ShadowFold(
    NpgsqlDataSource dataSource,
    ActivePolicies shadows,
    EventStreams streams,
    ILogger<ShadowFold> logger) : IStreamFold<ShadowJob>
{
    public const string CheckpointName = "promoter:shadows";

    readonly List<(string Policy, ShadowDecision Wish)> _pending = [];
    Dictionary<string, ShadowAgreement> _agreement = new(StringComparer.Ordinal);

    public string Name => CheckpointName;

    public IReadOnlyDictionary<string, ShadowAgreement> Agreement => _agreement;

    public bool HasState(string streamId) => !ControlStreams.IsControl(streamId);

    public void Observe(LogEvent logEvent) => shadows.Observe(logEvent);

    public async Task ResumeAsync(LogPositions checkpoint, CancellationToken cancellationToken)
    {
        _pending.Clear();
        await shadows.LoadAsync(dataSource, checkpoint.Of(LogPartitioner.ControlPartition), cancellationToken);
        _agreement = checkpoint.IsStart
            ? new Dictionary<string, ShadowAgreement>(StringComparer.Ordinal)
            : await ShadowStateTable.LoadAgreementAsync(dataSource, cancellationToken);
    }

    public ShadowJob Create(string streamId) => ShadowJob.Empty(streamId);

    public ShadowJob Apply(ShadowJob state, LogEvent logEvent)
    {
        if (shadows.All.Count == 0 && state.Tracks.IsEmpty)
        {
            return state;
        }
        return logEvent.Type switch
        {
            SignalRecorded.EventType => OnSignal(state, logEvent.Event, logEvent.Read<SignalRecorded>()),
            PhaseChanged.EventType => OnPhaseChanged(state, SignalSamples.ToDecision(logEvent.Read<PhaseChanged>())),
            _ => state,
        };
    }

    public ShadowJob Poisoned(ShadowJob state) => state;

    ShadowJob OnSignal(ShadowJob state, RecordedEvent recorded, SignalRecorded signal)
    {
        var sample = SignalSamples.From(recorded, signal);
        var tracks = state.Tracks;
        foreach (var policy in shadows.All)
        {
            if (!policy.Selector.Matches(signal.Labels))
            {
                continue;
            }
            var track = tracks.TryGetValue(policy.Name, out var held) ? held : new ShadowTrack(JobLifecycleDecider.Initial(state.JobId), null);
            var lifecycle = JobLifecycleDecider.Evolve(track.Lifecycle, sample, policy);
            var would = track.Would;
            if (would is null && JobLifecycleDecider.Decide(lifecycle, policy) is { } decision)
            {
                would = decision;
                Counts(policy.Name).Open++;
                _pending.Add((policy.Name, new ShadowDecision(EventIds.ForShadowDecision(policy.Name, state.JobId, decision.DecidingVersion),
                    decision.Policy, state.JobId, decision.From, decision.To, decision.Direction, decision.DecidedAt, decision.DecidingVersion,
                    decision.Reason, SignalSamples.ToEvent(decision).Criteria)));
            }
            tracks = tracks.SetItem(policy.Name, new ShadowTrack(lifecycle, would));
        }
        return state with { Tracks = tracks };
    }

    // A real move: every shadow follows it, and its wish for this phase is judged against it.
    ShadowJob OnPhaseChanged(ShadowJob state, PhaseDecision real)
    {
        var tracks = state.Tracks;
        foreach (var (name, track) in state.Tracks)
        {
            var counts = Counts(name);
            if (track.Would is { } would)
            {
                counts.Open--;
                if (would.From == real.From && would.To == real.To)
                {
                    counts.Agreed++;
                    counts.LeadSeconds += (real.DecidedAt - would.DecidedAt).TotalSeconds;
                }
                else
                {
                    counts.ShadowOnly++;
                    counts.LiveOnly++;
                }
            }
            else
            {
                counts.LiveOnly++;
            }
            tracks = tracks.SetItem(name, new ShadowTrack(JobLifecycleDecider.Apply(track.Lifecycle, real), null));
        }
        return state with { Tracks = tracks };
    }

    ShadowAgreement Counts(string policy)
    {
        if (!_agreement.TryGetValue(policy, out var counts))
        {
            counts = _agreement[policy] = new ShadowAgreement(policy);
        }
        return counts;
    }

    public async Task CommitAsync(CancellationToken cancellationToken)
    {
        if (_pending.Count == 0)
        {
            return;
        }
        await streams.InTransactionAsync(async transaction =>
        {
            foreach (var (policy, wish) in _pending)
            {
                await streams.AppendOnceAsync(transaction, ShadowDecision.StreamFor(policy),
                    new EventToAppend(wish.EventId, ShadowDecision.EventType, ContractsJson.Serialize(wish),
                        ContractsJson.Serialize(new EventMetadata(null, null)), wish.DecidedAt),
                    cancellationToken);
            }
            return true;
        }, cancellationToken);
        foreach (var (_, wish) in _pending)
        {
            LogWish(wish.JobId, wish.Policy, wish.Direction, wish.From, wish.To, wish.DecidedAt);
        }
        _pending.Clear();
    }

    public Task<IReadOnlyDictionary<string, ShadowJob>> LoadAsync(NpgsqlConnection connection, IReadOnlyList<string> streamIds, CancellationToken cancellationToken) =>
        ShadowStateTable.LoadAsync(connection, streamIds, cancellationToken);

    public async Task SaveAsync(NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, ShadowJob>> changed, CancellationToken cancellationToken)
    {
        await ShadowStateTable.SaveAsync(transaction, changed.Where(c => !c.Value.Tracks.IsEmpty).ToList(), cancellationToken);
        await ShadowStateTable.SaveAgreementAsync(transaction, _agreement.Values, cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Shadow {Policy} would {Direction} job {JobId} {From} → {To} at {DecidedAt:u}")]
    partial void LogWish(string jobId, string policy, string direction, string from, string to, DateTimeOffset decidedAt);
}
