using Npgsql;
using Streaming.Cli;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EventStore;

/// <summary>A test database whose store was created with a log of <see cref="Partitions"/> partitions.</summary>
public sealed class PartitionedDatabase : IAsyncLifetime
{
    public const int Partitions = 4;

    readonly TestDatabase _database = new();

    public static LogPartitioner Partitioner { get; } = new(Partitions, ControlStreamPrefixes.All);

    public NpgsqlDataSource DataSource => _database.DataSource;

    /// <summary>A new job id whose stream is in <paramref name="partition"/>.</summary>
    public static string JobIn(int partition) => JobIn(Partitioner, partition);

    /// <summary>A new job id whose stream is in <paramref name="partition"/> of <paramref name="partitioner"/>'s log.</summary>
    public static string JobIn(LogPartitioner partitioner, int partition)
    {
        while (true)
        {
            var job = SampleEvents.NewStreamId("job");
            if (partitioner.PartitionOf(job) == partition)
            {
                return job;
            }
        }
    }

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await EventStoreSchema.MigrateAsync(DataSource, StoreSchema.ServiceMigrations, Partitioner, CancellationToken.None);
    }

    public Task DisposeAsync() => _database.DisposeAsync();
}
