namespace Streaming.EventStore;

/// <summary>How a query finds the committed events a checkpoint has not read yet, for readers that watch folds' progress.</summary>
public static class UnreadEvents
{
    // A transaction that appended to several partitions has a commit in each, all with its tx_id: an event belongs to
    // the one of its own partition. Bounded like the tail read: es.commits from the checkpoint's commit on, and that
    // commit's events past its position only.
    /// <summary>
    /// <c>from … where …</c> over the committed events (aliases <c>ec</c> for the commit, <c>e</c> for the event) past the
    /// checkpoint row aliased <c>c</c> (<c>es.checkpoints</c>) in that row's own partition, to select, count or test for.
    /// </summary>
    public const string From = """
         from es.commits ec
         join es.events e on e.tx_id = ec.tx_id and e.partition = ec.partition
                         and e.global_position > case when ec.commit = c.commit then c.position else 0 end
        where ec.partition = c.partition and ec.commit >= c.commit
        """;
}
