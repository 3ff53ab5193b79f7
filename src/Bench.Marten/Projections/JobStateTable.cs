using Weasel.Postgresql;
using Weasel.Postgresql.Tables;

namespace Streaming.Bench.Marten.Projections;

/// <summary>
/// The raw-SQL projection's table, one row per job, in the shape of our <c>projections.job_states</c>' core: the
/// phase and since when, the last signal's seq, event time and metrics, and how many signals were folded.
/// Marten creates it with its own schema objects.
/// </summary>
public static class JobStateTable
{
    public static Table Create(string schema)
    {
        var table = new Table(new PostgresqlObjectName(schema, "job_states", SchemaUtils.IdentifierUsage.General));
        table.AddColumn<string>("job_id").AsPrimaryKey();
        table.AddColumn("phase", "text").NotNull();
        table.AddColumn("phase_since", "timestamptz").NotNull();
        table.AddColumn("last_seq", "bigint").NotNull();
        table.AddColumn("last_event_time", "timestamptz").NotNull();
        table.AddColumn("metrics", "jsonb").NotNull();
        table.AddColumn("labels", "jsonb").NotNull();
        table.AddColumn("signals", "bigint").NotNull();
        return table;
    }
}
