using Npgsql;
using NpgsqlTypes;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;

namespace Streaming.Api.Fleet;

/// <summary>
/// Folds the log into the fleet's history (schema <c>fleet</c>, migration 21): every phase change as a row of the
/// decision feed, moves per hour of event time by direction and policy, each job's phase, and the jobs per phase at the
/// end of each hour of event time (the last event of the hour in log order). A batch's rows commit with the fold's
/// checkpoint; folding a batch twice writes the same rows, so a retried batch changes nothing.
/// A new job enters the phase it reports if its policy has it, else the policy's first phase, as the Projector assigns it.
/// </summary>
public sealed class FleetHistoryFold(NpgsqlDataSource dataSource, ActivePolicies policies)
{
    public const string CheckpointName = "fleet-history";

    /// <summary>The channel notified when a batch added decisions or moved the counts: the dashboards' live updates.</summary>
    public const string Channel = "fleet_history";

    readonly Dictionary<string, string> _phases = new(StringComparer.Ordinal);
    readonly Dictionary<string, int> _totals = new(StringComparer.Ordinal);
    bool _loaded;
    // Per log partition: the last event folded.
    readonly Dictionary<int, TailPosition> _handledUpTo = [];

    /// <summary>
    /// Folds one batch inside the caller's transaction (the one that moves the checkpoint). When it fails, the batch
    /// rolls back: what the fold holds in memory is reloaded from the tables before the next one.
    /// </summary>
    public async Task HandleAsync(IReadOnlyList<LogEvent> events, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        try
        {
            await FoldAsync(events, transaction, cancellationToken);
        }
        catch
        {
            Reset();
            throw;
        }
    }

    async Task FoldAsync(IReadOnlyList<LogEvent> events, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        // A batch that starts at or before the end of the last one (in any partition) means the last one did not commit:
        // start afresh.
        if (!_loaded || RepeatsHandled(events))
        {
            await LoadAsync(transaction, cancellationToken);
        }
        var decisions = new List<(RecordedEvent Recorded, PhaseChanged Change)>();
        var changedJobs = new HashSet<string>(StringComparer.Ordinal);
        var hours = new Dictionary<DateTimeOffset, Dictionary<string, int>>();
        foreach (var logEvent in events)
        {
            var recorded = logEvent.Event;
            // An event that cannot be read is left out here; the folds that need it record it as poisoned.
            if (logEvent.Body is UndecodableBody)
            {
                continue;
            }
            policies.Observe(logEvent);
            switch (logEvent.Body)
            {
                case PhaseChanged change:
                    decisions.Add((recorded, change));
                    Move(change.JobId, change.To);
                    changedJobs.Add(change.JobId);
                    break;
                case SignalRecorded signal when !_phases.ContainsKey(recorded.StreamId):
                    var policy = policies.For(signal.Labels);
                    Move(recorded.StreamId, policy is null || policy.HasPhase(signal.Phase) ? signal.Phase : policy.FirstPhase);
                    changedJobs.Add(recorded.StreamId);
                    break;
                default:
                    continue;
            }
            hours[Hour(recorded.EventTime)] = new Dictionary<string, int>(_totals, StringComparer.Ordinal);
        }
        foreach (var logEvent in events)
        {
            _handledUpTo[logEvent.Event.Partition] = logEvent.Position;
        }
        if (changedJobs.Count == 0)
        {
            return;
        }
        await WriteDecisionsAsync(transaction, decisions, cancellationToken);
        await WriteJobPhasesAsync(transaction, changedJobs, cancellationToken);
        await WritePhaseHistoryAsync(transaction, hours, cancellationToken);
        await using var notify = new NpgsqlCommand($"select pg_notify('{Channel}', $1)", transaction.Connection, transaction);
        notify.Parameters.Add(new NpgsqlParameter<string> { TypedValue = decisions.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) });
        await notify.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Forgets what was folded, so the next batch reloads it from the tables (after a batch that did not commit).</summary>
    public void Reset()
    {
        _loaded = false;
        _handledUpTo.Clear();
        _phases.Clear();
        _totals.Clear();
    }

    void Move(string jobId, string phase)
    {
        if (_phases.TryGetValue(jobId, out var from))
        {
            if (from == phase)
            {
                return;
            }
            _totals[from] = _totals.GetValueOrDefault(from) - 1;
        }
        _phases[jobId] = phase;
        _totals[phase] = _totals.GetValueOrDefault(phase) + 1;
    }

    static DateTimeOffset Hour(DateTimeOffset at) => new(at.UtcDateTime.Ticks - at.UtcDateTime.Ticks % TimeSpan.TicksPerHour, TimeSpan.Zero);

    bool RepeatsHandled(IReadOnlyList<LogEvent> events)
    {
        foreach (var logEvent in events)
        {
            if (_handledUpTo.TryGetValue(logEvent.Event.Partition, out var end) && logEvent.Position.CompareTo(end) <= 0)
            {
                return true;
            }
        }
        return false;
    }

    async Task LoadAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        Reset();
        await using (var command = new NpgsqlCommand("select job_id, phase from fleet.job_phases", transaction.Connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                Move(reader.GetString(0), reader.GetString(1));
            }
        }
        // The policies in force just before this batch: up to where the checkpoint (claimed by this transaction) has the
        // control partition; the batch's own policy events are observed in their place.
        TailPosition control;
        await using (var checkpoint = new NpgsqlCommand(
            "select commit, position from es.checkpoints where name = $1 and partition = $2", transaction.Connection, transaction))
        {
            checkpoint.Parameters.Add(new NpgsqlParameter<string> { TypedValue = CheckpointName });
            checkpoint.Parameters.Add(new NpgsqlParameter<int> { TypedValue = LogPartitioner.ControlPartition });
            await using var reader = await checkpoint.ExecuteReaderAsync(cancellationToken);
            control = await reader.ReadAsync(cancellationToken) ? new TailPosition(reader.GetInt64(0), reader.GetInt64(1)) : TailPosition.Start;
        }
        await policies.LoadAsync(dataSource, control, cancellationToken);
        _loaded = true;
    }

    static async Task WriteDecisionsAsync(
        NpgsqlTransaction transaction, List<(RecordedEvent Recorded, PhaseChanged Change)> decisions, CancellationToken cancellationToken)
    {
        if (decisions.Count == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand("""
            with added as (
                insert into fleet.decisions (global_position, event_id, job_id, from_phase, to_phase, direction, policy, policy_name, decided_at, recorded_at, reason)
                select * from unnest($1::bigint[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                                     $9::timestamptz[], $10::timestamptz[], $11::text[])
                on conflict do nothing
                returning decided_at, direction, policy_name
            )
            insert into fleet.moves_per_hour (hour, direction, policy, moves)
            select date_trunc('hour', decided_at at time zone 'UTC') at time zone 'UTC', direction, policy_name, count(*) from added
            group by 1, 2, 3
            on conflict (hour, direction, policy) do update set moves = fleet.moves_per_hour.moves + excluded.moves
            """, transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. decisions.Select(d => d.Recorded.GlobalPosition)] });
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = [.. decisions.Select(d => d.Recorded.EventId)] });
        AddText(command, decisions.Select(d => d.Change.JobId));
        AddText(command, decisions.Select(d => d.Change.From));
        AddText(command, decisions.Select(d => d.Change.To));
        AddText(command, decisions.Select(d => d.Change.Direction));
        AddText(command, decisions.Select(d => d.Change.Policy));
        AddText(command, decisions.Select(d => d.Change.Policy.Split('@')[0]));
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. decisions.Select(d => d.Change.DecidedAt.ToUniversalTime())] });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. decisions.Select(d => d.Recorded.RecordedAt.ToUniversalTime())] });
        AddText(command, decisions.Select(d => d.Change.Reason));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    async Task WriteJobPhasesAsync(NpgsqlTransaction transaction, HashSet<string> jobs, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            insert into fleet.job_phases (job_id, phase) select * from unnest($1::text[], $2::text[])
            on conflict (job_id) do update set phase = excluded.phase
            """, transaction.Connection, transaction);
        AddText(command, jobs);
        AddText(command, jobs.Select(j => _phases[j]));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static async Task WritePhaseHistoryAsync(
        NpgsqlTransaction transaction, Dictionary<DateTimeOffset, Dictionary<string, int>> hours, CancellationToken cancellationToken)
    {
        var rows = hours.SelectMany(h => h.Value.Select(p => (Hour: h.Key, Phase: p.Key, Jobs: p.Value))).ToList();
        await using var command = new NpgsqlCommand("""
            insert into fleet.phase_history (hour, phase, jobs) select * from unnest($1::timestamptz[], $2::text[], $3::int[])
            on conflict (hour, phase) do update set jobs = excluded.jobs
            """, transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset[]> { TypedValue = [.. rows.Select(r => r.Hour)] });
        AddText(command, rows.Select(r => r.Phase));
        command.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. rows.Select(r => r.Jobs)] });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    static void AddText(NpgsqlCommand command, IEnumerable<string> values) =>
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. values], NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
}
