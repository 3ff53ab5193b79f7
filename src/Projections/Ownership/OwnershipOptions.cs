namespace Streaming.Projections.Ownership;

/// <summary>
/// Whether a role's instances share the log's partitions through Kafka's group protocol, and how (configuration sections
/// <c>Projector:Ownership</c>, <c>Promoter:Ownership</c>). Off by default: one instance follows every partition.
/// </summary>
public sealed class OwnershipOptions
{
    /// <summary>Join the role's group and follow only the partitions it assigns to this instance.</summary>
    public bool Enabled { get; set; }

    /// <summary>The role's consumer group (each role its own).</summary>
    public string Group { get; set; } = "";

    /// <summary>
    /// Static membership (<c>group.instance.id</c>): an instance that restarts under the same id within the session
    /// timeout gets its partitions back without a rebalance. Unset: the host name, the role and the index the supervisor
    /// gives each copy (<c>STREAMING_INSTANCE</c>, as <c>./run.sh --instances N</c> starts them); without an index, a new
    /// member at each start. Two live processes must never share one.
    /// </summary>
    public string? InstanceId { get; set; }

    /// <summary>How long a revoke waits for the tail to write what it holds for the partitions leaving before giving them up.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public bool IsValid => !Enabled || !string.IsNullOrWhiteSpace(Group) && DrainTimeout > TimeSpan.Zero;
}
