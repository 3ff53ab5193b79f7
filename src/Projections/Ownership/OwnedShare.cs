namespace Streaming.Projections.Ownership;

/// <summary>
/// The partitions the group assigns to this instance at one moment, and what ends that moment: <see cref="Changed"/>
/// completes when the group assigns or takes away partitions.
/// </summary>
public sealed record OwnedShare(IReadOnlySet<int> Partitions, Task Changed);
