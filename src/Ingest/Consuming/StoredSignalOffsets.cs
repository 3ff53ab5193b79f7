using System.Collections.Concurrent;

namespace Streaming.Ingest.Consuming;

/// <summary>
/// The next offset of each partition of the signals topic that this process's Ingest has stored (committed to the store
/// with the signals before it), since the process started. A broker living in the same process may delete what lies
/// below: it is in the store.
/// </summary>
public sealed class StoredSignalOffsets
{
    readonly ConcurrentDictionary<int, long> _next = new();

    /// <summary>Records that everything of <paramref name="partition"/> before <paramref name="nextOffset"/> is stored.</summary>
    public void Stored(int partition, long nextOffset) =>
        _next.AddOrUpdate(partition, nextOffset, (_, known) => Math.Max(known, nextOffset));

    /// <summary>Each partition's next offset stored so far; a partition nothing was stored from is absent.</summary>
    public IReadOnlyDictionary<int, long> Snapshot() => new Dictionary<int, long>(_next);
}
