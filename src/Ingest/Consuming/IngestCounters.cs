namespace Streaming.Ingest.Consuming;

/// <summary>What Ingest has done since it started; read by the dashboards, the benchmark and the tests.</summary>
public sealed class IngestCounters
{
    long _appended;
    long _duplicates;
    long _stale;
    long _deadLettered;
    long _lostToRetention;
    long _batches;
    long _fenced;

    public long Appended => Interlocked.Read(ref _appended);
    public long Duplicates => Interlocked.Read(ref _duplicates);
    public long Stale => Interlocked.Read(ref _stale);
    public long DeadLettered => Interlocked.Read(ref _deadLettered);
    public long LostToRetention => Interlocked.Read(ref _lostToRetention);
    public long Batches => Interlocked.Read(ref _batches);
    public long Fenced => Interlocked.Read(ref _fenced);

    internal void AddBatch(long appended, long duplicates, long stale, long deadLettered)
    {
        Interlocked.Add(ref _appended, appended);
        Interlocked.Add(ref _duplicates, duplicates);
        Interlocked.Add(ref _stale, stale);
        Interlocked.Add(ref _deadLettered, deadLettered);
        Interlocked.Increment(ref _batches);
    }

    internal void AddLostToRetention(long messages) => Interlocked.Add(ref _lostToRetention, messages);

    internal void AddFenced() => Interlocked.Increment(ref _fenced);
}
