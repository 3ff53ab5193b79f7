using System.Text.Json;
using JasperFx.Events;
using Marten;
using Marten.Events.Projections;
using Streaming.Contracts.History;

namespace Streaming.Bench.Marten.Projections;

/// <summary>
/// The fastest way Marten offers to keep a job-state table: a raw-SQL <see cref="IProjection"/> that folds the
/// daemon's batch in memory (the last signal of each job, and when its phase began within the batch) and upserts
/// every changed job in one statement of arrays.
/// </summary>
public sealed class JobStateSqlProjection(string schema) : IProjection
{
    public const string Name = "JobStateSql";

    readonly string _upsert = $"""
        insert into {schema}.job_states as s (job_id, phase, phase_since, last_seq, last_event_time, metrics, labels, signals)
        select t.job_id, t.phase, t.phase_since, t.last_seq, t.last_event_time, t.metrics::jsonb, t.labels::jsonb, t.signals
        from unnest(?::text[], ?::text[], ?::timestamptz[], ?::bigint[], ?::timestamptz[], ?::text[], ?::text[], ?::bigint[])
             as t (job_id, phase, phase_since, last_seq, last_event_time, metrics, labels, signals)
        on conflict (job_id) do update set
            phase = excluded.phase,
            phase_since = case when s.phase = excluded.phase then s.phase_since else excluded.phase_since end,
            last_seq = excluded.last_seq,
            last_event_time = excluded.last_event_time,
            metrics = excluded.metrics,
            labels = excluded.labels,
            signals = s.signals + excluded.signals
        """;

    public Task ApplyAsync(IDocumentOperations operations, IReadOnlyList<IEvent> events, CancellationToken cancellation)
    {
        var jobs = new Dictionary<string, Folded>(StringComparer.Ordinal);
        foreach (var e in events)
        {
            if (e.Data is not SignalRecorded signal)
            {
                continue;
            }
            jobs[signal.JobId] = jobs.TryGetValue(signal.JobId, out var folded)
                ? new Folded(signal, folded.Last.Phase == signal.Phase ? folded.PhaseSince : signal.EmittedAt, folded.Signals + 1)
                : new Folded(signal, signal.EmittedAt, 1);
        }
        if (jobs.Count == 0)
        {
            return Task.CompletedTask;
        }
        var rows = jobs.Values.ToArray();
        operations.QueueSqlCommand(
            _upsert,
            rows.Select(r => r.Last.JobId).ToArray(),
            rows.Select(r => r.Last.Phase).ToArray(),
            rows.Select(r => r.PhaseSince.ToUniversalTime()).ToArray(),
            rows.Select(r => r.Last.Seq).ToArray(),
            rows.Select(r => r.Last.EmittedAt.ToUniversalTime()).ToArray(),
            rows.Select(r => JsonSerializer.Serialize(r.Last.Metrics)).ToArray(),
            rows.Select(r => JsonSerializer.Serialize(r.Last.Labels)).ToArray(),
            rows.Select(r => r.Signals).ToArray());
        return Task.CompletedTask;
    }

    sealed record Folded(SignalRecorded Last, DateTimeOffset PhaseSince, long Signals);
}
