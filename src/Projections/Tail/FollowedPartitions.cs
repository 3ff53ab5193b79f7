using Npgsql;
using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>
/// The log partitions this process's folds follow: for now every partition of the store (<c>es.log_partitioning</c>),
/// so one instance reads the whole log; owning a share of them through Kafka's group protocol is issue 22's next step.
/// </summary>
public static class FollowedPartitions
{
    public static async Task<IReadOnlyList<int>> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var partitioning = await EventStoreSchema.ReadPartitioningAsync(dataSource, cancellationToken);
        return [.. Enumerable.Range(0, partitioning.Partitions)];
    }
}
