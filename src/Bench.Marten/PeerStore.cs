using JasperFx;
using JasperFx.Events;
using JasperFx.Events.Projections;
using Marten;
using Npgsql;
using Streaming.Bench.Marten.Appending;
using Streaming.Bench.Marten.Projections;
using Streaming.Contracts.History;

namespace Streaming.Bench.Marten;

/// <summary>
/// Marten in the best configuration found for this workload: string stream ids, the Quick append mode with server
/// timestamps (Marten 9's default), Npgsql auto-prepare, numeric-revision offsets documents, and the chosen
/// projection registered with the async daemon, which loads up to <c>daemonBatchSize</c> events at a time (Marten's
/// default is 500; 5,000 rebuilt the raw-SQL projection about a fifth faster here, with a tenth of the event loads).
/// </summary>
public static class PeerStore
{
    public const string Schema = "peer";

    public static NpgsqlDataSource DataSource(string connectionString) =>
        NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
        {
            MaxAutoPrepare = 64,
            AutoPrepareMinUsages = 2,
            ApplicationName = "marten-peer",
        }.ConnectionString);

    public static DocumentStore Create(NpgsqlDataSource dataSource, ProjectionChoice projection, int daemonBatchSize) =>
        DocumentStore.For(options =>
        {
            options.Connection(dataSource);
            options.DatabaseSchemaName = Schema;
            options.AutoCreateSchemaObjects = AutoCreate.All;
            options.DisableNpgsqlLogging = true;
            options.Events.StreamIdentity = StreamIdentity.AsString;
            options.Events.AppendMode = EventAppendMode.QuickWithServerTimestamps;
            options.Events.AddEventType<SignalRecorded>();
            options.Schema.For<KafkaOffsets>().UseNumericRevisions(true);
            switch (projection)
            {
                case ProjectionChoice.Sql:
                    options.Storage.ExtendedSchemaObjects.Add(JobStateTable.Create(Schema));
                    options.Projections.Add(new JobStateSqlProjection(Schema), ProjectionLifecycle.Async, JobStateSqlProjection.Name,
                        async =>
                        {
                            Batches(async, daemonBatchSize);
                            async.DeleteDataInTableOnTeardown($"{Schema}.job_states");
                        });
                    break;
                case ProjectionChoice.Aggregate:
                    options.Projections.Add<JobStateViewProjection>(ProjectionLifecycle.Async, async => Batches(async, daemonBatchSize));
                    break;
            }
        });

    static void Batches(AsyncOptions async, int size)
    {
        async.BatchSize = size;
        async.MaximumHopperSize = 4 * size;
    }

    public static string ProjectionName(ProjectionChoice projection) => projection switch
    {
        ProjectionChoice.Sql => JobStateSqlProjection.Name,
        ProjectionChoice.Aggregate => nameof(JobStateView),
        _ => throw new ArgumentOutOfRangeException(nameof(projection), projection, "no projection"),
    };
}
