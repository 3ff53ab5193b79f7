using Npgsql;
using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>
/// The log partitions a run of the process's <see cref="LogTail"/> follows: every partition of the store
/// (<c>es.log_partitioning</c>) unless the run was given the share its instance owns (<see cref="Ownership.PartitionOwnership"/>).
/// An owner of a share without the control partition follows that partition too, read-only
/// (<see cref="ControlOnly"/>): it is handed only the control streams' events there, and saves no checkpoint for it.
/// </summary>
public sealed class FollowedPartitions
{
    // The folds load their checkpoints through this, whoever runs them: a run of the tail sets it for the tasks it starts,
    // so no fold has to know whether its process owns a share of the log or all of it.
    static readonly AsyncLocal<FollowedPartitions?> Current = new();

    FollowedPartitions(IReadOnlyList<int> owned, LogPartitioner partitioner)
    {
        Owned = owned;
        Partitioner = partitioner;
        ControlOnly = owned.Count > 0 && !owned.Contains(LogPartitioner.ControlPartition) ? LogPartitioner.ControlPartition : null;
        Read = ControlOnly is { } control ? [control, .. owned] : owned;
    }

    /// <summary>The partitions whose work this instance does.</summary>
    public IReadOnlyList<int> Owned { get; }

    /// <summary>The control partition when this instance does not own it: read for its control streams alone, never saved.</summary>
    public int? ControlOnly { get; }

    /// <summary>Every partition read: <see cref="Owned"/> and <see cref="ControlOnly"/>, in order.</summary>
    public IReadOnlyList<int> Read { get; }

    public LogPartitioner Partitioner { get; }

    /// <summary>Whether this instance reads <paramref name="partition"/> for its control streams only.</summary>
    public bool IsControlOnly(int partition) => partition == ControlOnly;

    /// <summary>Whether the event of <paramref name="streamId"/> in <paramref name="partition"/> is handed to the folds.</summary>
    public bool Hands(int partition, string streamId) => partition != ControlOnly || Partitioner.IsControl(streamId);

    /// <summary>Every partition of the store, as a process without ownership follows them.</summary>
    public static FollowedPartitions All(LogPartitioner partitioner) => new([.. Enumerable.Range(0, partitioner.Partitions)], partitioner);

    /// <summary>The share <paramref name="owned"/> of <paramref name="partitioner"/>'s partitions.</summary>
    public static FollowedPartitions Share(IEnumerable<int> owned, LogPartitioner partitioner)
    {
        var partitions = owned.Distinct().Order().ToList();
        if (partitions.Any(p => p < 0 || p >= partitioner.Partitions))
        {
            throw new ArgumentOutOfRangeException(nameof(owned), $"The log has partitions 0 to {partitioner.Partitions - 1}, not {string.Join(", ", partitions)}");
        }
        return new FollowedPartitions(partitions, partitioner);
    }

    /// <summary>
    /// What the caller follows: the share set by <see cref="Use"/> for the run it belongs to, else every partition of the store.
    /// </summary>
    public static async Task<FollowedPartitions> ReadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        Current.Value ?? All(await EventStoreSchema.ReadPartitioningAsync(dataSource, cancellationToken));

    /// <summary>Makes <paramref name="followed"/> what the calling flow (and the tasks it starts) follows.</summary>
    internal static void Use(FollowedPartitions? followed) => Current.Value = followed;

    public override string ToString() =>
        ControlOnly is { } control ? $"{string.Join(",", Owned)} (+{control} control only)" : string.Join(",", Owned);
}
