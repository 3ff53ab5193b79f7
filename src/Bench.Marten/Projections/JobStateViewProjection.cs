using Marten.Events.Aggregation;
using Streaming.Contracts.History;

namespace Streaming.Bench.Marten.Projections;

/// <summary>
/// The idiomatic way: a <c>SingleStreamProjection</c> with convention methods (Marten 9's source generator needs the
/// class partial and the methods public), one <see cref="JobStateView"/> document per job stream.
/// </summary>
public sealed partial class JobStateViewProjection : SingleStreamProjection<JobStateView, string>
{
    public JobStateView Create(SignalRecorded signal) => new()
    {
        Id = signal.JobId,
        Phase = signal.Phase,
        PhaseSince = signal.EmittedAt,
        LastSeq = signal.Seq,
        LastEventTime = signal.EmittedAt,
        Metrics = signal.Metrics,
        Labels = signal.Labels,
        Signals = 1,
    };

    public void Apply(SignalRecorded signal, JobStateView view)
    {
        if (view.Phase != signal.Phase)
        {
            view.Phase = signal.Phase;
            view.PhaseSince = signal.EmittedAt;
        }
        view.LastSeq = signal.Seq;
        view.LastEventTime = signal.EmittedAt;
        view.Metrics = signal.Metrics;
        view.Labels = signal.Labels;
        view.Signals++;
    }
}
