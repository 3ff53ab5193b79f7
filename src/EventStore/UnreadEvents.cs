namespace Streaming.EventStore;

/// <summary>How a query finds the committed events a checkpoint has not read yet, for readers that watch folds' progress.</summary>
public static class UnreadEvents
{
    /// <summary>
    /// A set-returning call giving at most <paramref name="count"/> of the committed events past the checkpoint row aliased
    /// <paramref name="checkpoint"/> (<c>es.checkpoints</c>), in that row's own partition, as the tail reads them (columns of
    /// <c>es.read_tail</c>, among them <c>committed_at</c>): it stops at its count, so a probe costs what it asks for
    /// however far behind the fold is.
    /// </summary>
    public static string After(string checkpoint, int count) =>
        $"es.read_tail({checkpoint}.partition, {checkpoint}.commit, {checkpoint}.position, {count})";
}
