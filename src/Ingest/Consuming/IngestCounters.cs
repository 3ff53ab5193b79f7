namespace Streaming.Ingest.Consuming;

/// <summary>What Ingest has done since it started; read by the dashboards, the benchmark and the tests.</summary>
public sealed class IngestCounters
{
    long _read;
    long _appended;
    long _duplicates;
    long _conflicting;
    long _stale;
    long _deadLettered;
    long _lostToRetention;
    long _batches;
    long _fenced;
    long _restarted;

    /// <summary>Messages read from the topic, whether stored yet or not (a batch is read while the one before commits).</summary>
    public long Read => Interlocked.Read(ref _read);

    /// <summary>Signals stored.</summary>
    public long Appended => Interlocked.Read(ref _appended);

    /// <summary>Repeats of a stored (or earlier in the batch) seq with the same content: stored once, not dead-lettered.</summary>
    public long Duplicates => Interlocked.Read(ref _duplicates);

    /// <summary>Repeats of a stored seq with different content: dead-lettered.</summary>
    public long Conflicting => Interlocked.Read(ref _conflicting);

    /// <summary>Seqs lower than one stored first and never stored themselves: dead-lettered.</summary>
    public long Stale => Interlocked.Read(ref _stale);

    /// <summary>Messages sent to the dead-letter topic: invalid ones, conflicting and stale signals.</summary>
    public long DeadLettered => Interlocked.Read(ref _deadLettered);

    /// <summary>Messages retention deleted before Ingest stored them, each counted once.</summary>
    public long LostToRetention => Interlocked.Read(ref _lostToRetention);

    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Batches dropped because another consumer had moved the stored offsets.</summary>
    public long Fenced => Interlocked.Read(ref _fenced);

    /// <summary>Times a partition that delivered nothing while its log held more was started again at its stored offset.</summary>
    public long Restarted => Interlocked.Read(ref _restarted);

    internal void AddBatch(long appended, long duplicates, long conflicting, long stale, long deadLettered)
    {
        Interlocked.Add(ref _appended, appended);
        Interlocked.Add(ref _duplicates, duplicates);
        Interlocked.Add(ref _conflicting, conflicting);
        Interlocked.Add(ref _stale, stale);
        Interlocked.Add(ref _deadLettered, deadLettered);
        Interlocked.Increment(ref _batches);
    }

    internal void AddRead() => Interlocked.Increment(ref _read);

    internal void AddLostToRetention(long messages) => Interlocked.Add(ref _lostToRetention, messages);

    internal void AddFenced() => Interlocked.Increment(ref _fenced);

    internal void AddRestarted() => Interlocked.Increment(ref _restarted);
}
