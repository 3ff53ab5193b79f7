using System.Data;
using System.Globalization;
using Npgsql;
using Streaming.Projections.History;
using Streaming.Projector.JobStates;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Shadows;

namespace Streaming.Cli.Resharding;

/// <summary>
/// Moves one log partition from one shard to another: <see cref="CopyAsync"/> copies it in one transaction on the
/// target, checked against the source before it commits; <see cref="DeleteAsync"/> then removes it from the source in
/// one transaction there. Either may be cut short and run again.
/// </summary>
public static class PartitionMove
{
    /// <summary>
    /// Folds whose checkpoint of a moved partition is not copied: the target folds the partition again from the log.
    /// The archive's blocks (and the job states, <see cref="RefoldedGenerations"/>) are each of one partition and rebuilt
    /// exactly; the Promoter's folds keep state of the whole shard beside their checkpoints, so they start over on every
    /// shard that gains or loses a partition (<see cref="PromoterReset"/>).
    /// </summary>
    public static readonly string[] Refolded = [HistoryArchive.CheckpointName, DecisionFold.CheckpointName, ShadowFold.CheckpointName];

    /// <summary>The job states' checkpoints, one per generation (<c>projector:job-states:g1</c> …), which are folded again too.</summary>
    public const string RefoldedGenerations = JobStateFold.FoldName + ":";

    // The per-job rows of folds whose checkpoints move with the partition (the fleet history) or that are folded again.
    static readonly string[] JobTables =
        ["projections.job_state_rows", "projections.job_signal_rows", "fleet.decisions", "fleet.job_phases",
         "promoter.job_lifecycle_snapshots", "promoter.shadow_tracks", "promoter.silence_entries"];

    // What is copied, each into a temporary table of the target first: (table, which of its rows are the partition's).
    static readonly (string Table, string Where)[] Copied =
    [
        ("es.streams", "t.partition = {0}"),
        ("es.commits", "t.partition = {0}"),
        ("es.events", "t.partition = {0} and t.tx_id = any(array(select tx_id from es.commits where partition = {0}))"),
        ("es.checkpoints", "t.partition = {0}"),
        ("es.poisoned_events", "t.partition = {0}"),
        ("es.kafka_offsets", "t.partition = {0}"),
        ("fleet.decisions", "t.job_id in (select stream_id from es.streams where partition = {0})"),
        ("fleet.job_phases", "t.job_id in (select stream_id from es.streams where partition = {0})"),
    ];

    /// <summary>
    /// Copies partition <paramref name="partition"/> of <paramref name="source"/> into <paramref name="target"/>, which
    /// holds none of it but maybe leftovers of folds (removed); returns the rows copied per table.
    /// </summary>
    public static async Task<IReadOnlyDictionary<string, long>> CopyAsync(
        NpgsqlDataSource source, NpgsqlDataSource target, int partition, CancellationToken cancellationToken)
    {
        await using var from = await source.OpenConnectionAsync(cancellationToken);
        await using var snapshot = await from.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        var expected = await PartitionFingerprint.ReadAsync(from, partition, cancellationToken);
        await using var to = await target.OpenConnectionAsync(cancellationToken);
        await using var transaction = await to.BeginTransactionAsync(cancellationToken);
        var p = partition.ToString(CultureInfo.InvariantCulture);
        // The copied commits are recorded below, as they were on the source: no commit of this transaction's own.
        await ExecuteAsync(to, $"""
            set local es.records_commit = 'on';
            delete from es.checkpoints where partition = {p};
            delete from es.poisoned_events where partition = {p};
            delete from es.history_blocks where partition = {p};
            """, cancellationToken);
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (table, where) in Copied)
        {
            rows[table] = await CopyToTemporaryAsync(from, to, table, string.Format(CultureInfo.InvariantCulture, where, p), cancellationToken);
        }
        await snapshot.CommitAsync(cancellationToken);

        var streams = await ColumnsAsync(to, "es.streams", cancellationToken);
        var commits = await ColumnsAsync(to, "es.commits", cancellationToken);
        var events = (await ColumnsAsync(to, "es.events", cancellationToken)).Where(c => c != "global_position").ToList();
        var checkpoints = await ColumnsAsync(to, "es.checkpoints", cancellationToken);
        var poisoned = await ColumnsAsync(to, "es.poisoned_events", cancellationToken);
        var offsets = await ColumnsAsync(to, "es.kafka_offsets", cancellationToken);
        var decisions = await ColumnsAsync(to, "fleet.decisions", cancellationToken);
        var phases = await ColumnsAsync(to, "fleet.job_phases", cancellationToken);
        // Events get the target's positions, in the partition's log order, and each commit a transaction id of its own
        // that no transaction of the target's will ever have (2^62 + partition × 2^40 + commit): the source's could be
        // reached by the target's own later, whose commit in this partition would then take the moved commit's events.
        var transactionId = $"((4611686018427387904 + {p}::bigint * 1099511627776 + c.commit)::text)::xid8";
        await ExecuteAsync(to, $"""
            insert into es.streams ({List(streams)}) select {List(streams)} from moved_streams;
            insert into es.commits ({List(commits)})
                select {List(commits.Select(c => c == "tx_id" ? transactionId : "c." + c))} from moved_commits c;
            insert into es.events ({List(events)})
                select {List(events.Select(c => c == "tx_id" ? transactionId : "e." + c))}
                  from moved_events e join moved_commits c on c.tx_id = e.tx_id and c.partition = e.partition
                 order by c.commit, e.global_position;
            create temporary table moved_positions on commit drop as
                select m.global_position as old_position, e.global_position as new_position, c.commit
                  from moved_events m join moved_commits c on c.tx_id = m.tx_id and c.partition = m.partition
                  join es.events e on e.stream_id = m.stream_id and e.version = m.version;
            insert into es.log_head (partition, last_commit) values ({p}, {expected.LogHead})
                on conflict (partition) do update set last_commit = excluded.last_commit;

            -- A checkpoint (C, G) read commit C up to position G: on the target, up to the last event of C at or before G.
            update moved_checkpoints k
               set position = coalesce((select max(m.new_position) from moved_positions m where m.commit = k.commit and m.old_position <= k.position), 0);
            delete from moved_checkpoints where name = any(@refolded) or starts_with(name, @generations);
            insert into es.checkpoints ({List(checkpoints)}) select {List(checkpoints)} from moved_checkpoints;

            delete from moved_poisoned_events where fold = any(@refolded) or starts_with(fold, @generations);
            update moved_poisoned_events k set global_position = m.new_position from moved_positions m where m.old_position = k.global_position;
            insert into es.poisoned_events ({List(poisoned)}) select {List(poisoned)} from moved_poisoned_events;

            insert into es.kafka_offsets ({List(offsets)}) select {List(offsets)} from moved_kafka_offsets
                on conflict (consumer_group, topic, partition) do update set next_offset = excluded.next_offset, updated_at = excluded.updated_at;

            update moved_decisions d set global_position = m.new_position from moved_positions m where m.old_position = d.global_position;
            insert into fleet.decisions ({List(decisions)}) select {List(decisions)} from moved_decisions on conflict do nothing;
            insert into fleet.job_phases ({List(phases)}) select {List(phases)} from moved_job_phases
                on conflict (job_id) do update set phase = excluded.phase;

            delete from projections.job_state_rows where job_id in (select stream_id from moved_streams);
            delete from projections.job_signal_rows where job_id in (select stream_id from moved_streams);
            """, cancellationToken, new NpgsqlParameter<string[]>("refolded", Refolded), new NpgsqlParameter<string>("generations", RefoldedGenerations));

        var copied = await PartitionFingerprint.ReadAsync(to, partition, cancellationToken);
        if (copied != expected)
        {
            throw new CommandFailedException($"partition {partition}'s copy differs from its source ({copied} against {expected}); nothing was committed");
        }
        await transaction.CommitAsync(cancellationToken);
        return rows;
    }

    /// <summary>Removes partition <paramref name="partition"/> and its jobs' rows from <paramref name="source"/>, in one transaction.</summary>
    public static async Task DeleteAsync(NpgsqlDataSource source, int partition, CancellationToken cancellationToken)
    {
        await using var connection = await source.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var p = partition.ToString(CultureInfo.InvariantCulture);
        var jobs = $"(select stream_id from es.streams where partition = {p})";
        // es.events refuses deletes (append-only); the move is the one writer allowed to, with every service stopped.
        await ExecuteAsync(connection, $"""
            {string.Concat(JobTables.Select(table => $"delete from {table} where job_id in {jobs};\n"))}
            alter table es.events disable trigger events_append_only;
            delete from es.events e where e.partition = {p} and e.tx_id = any(array(select tx_id from es.commits where partition = {p}));
            alter table es.events enable trigger events_append_only;
            delete from es.commits where partition = {p};
            delete from es.streams where partition = {p};
            update es.log_head set last_commit = 0 where partition = {p};
            delete from es.checkpoints where partition = {p};
            delete from es.poisoned_events where partition = {p};
            delete from es.history_blocks where partition = {p};
            delete from es.kafka_offsets where partition = {p};
            """, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    static async Task<long> CopyToTemporaryAsync(NpgsqlConnection from, NpgsqlConnection to, string table, string where, CancellationToken cancellationToken)
    {
        var temporary = "moved_" + table[(table.IndexOf('.', StringComparison.Ordinal) + 1)..];
        var columns = await ColumnsAsync(to, table, cancellationToken);
        await ExecuteAsync(to, $"create temporary table {temporary} (like {table}) on commit drop", cancellationToken);
        await using (var reader = await from.BeginRawBinaryCopyAsync(
            $"copy (select {List(columns.Select(c => "t." + c))} from {table} t where {where}) to stdout (format binary)", cancellationToken))
        await using (var writer = await to.BeginRawBinaryCopyAsync($"copy {temporary} ({List(columns)}) from stdin (format binary)", cancellationToken))
        {
            await reader.CopyToAsync(writer, cancellationToken);
        }
        await using var count = new NpgsqlCommand($"select count(*) from {temporary}", to);
        return (long)(await count.ExecuteScalarAsync(cancellationToken))!;
    }

    static async Task<IReadOnlyList<string>> ColumnsAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            select quote_ident(attname) from pg_attribute
             where attrelid = $1::regclass and attnum > 0 and not attisdropped order by attnum
            """, connection);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = table });
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            columns.Add(reader.GetString(0));
        }
        return columns;
    }

    static string List(IEnumerable<string> columns) => string.Join(", ", columns);

    static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params NpgsqlParameter[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        command.Parameters.AddRange(parameters);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
