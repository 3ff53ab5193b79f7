using System.Text;

namespace Streaming.Contracts.Signals;

/// <summary>
/// The partition a key goes to under the Java client's default partitioner (and librdkafka's <c>murmur2_random</c>):
/// murmur2 of the key's bytes, made positive, modulo the partition count. The job's signals and its phase changes
/// are keyed by its id, so this names the one partition of <c>job-phase-changes</c> that holds the job's records, and (as
/// the store's LogPartitioner) the log partition of the job.
/// </summary>
public static class Murmur2Partitioner
{
    public static int Partition(string key, int partitions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        return (Hash(Encoding.UTF8.GetBytes(key)) & 0x7fffffff) % partitions;
    }

    /// <summary>Kafka's <c>Utils.murmur2</c>, bit for bit.</summary>
    public static int Hash(ReadOnlySpan<byte> data)
    {
        const uint m = 0x5bd1e995;
        const int r = 24;
        var length = data.Length;
        var h = 0x9747b28c ^ (uint)length;
        var whole = length & ~3;
        for (var i = 0; i < whole; i += 4)
        {
            var k = data[i] | (uint)data[i + 1] << 8 | (uint)data[i + 2] << 16 | (uint)data[i + 3] << 24;
            k *= m;
            k ^= k >> r;
            k *= m;
            h *= m;
            h ^= k;
        }
        switch (length & 3)
        {
            case 3:
                h ^= (uint)data[whole + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[whole + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[whole];
                h *= m;
                break;
        }
        h ^= h >> 13;
        h *= m;
        h ^= h >> 15;
        return unchecked((int)h);
    }
}
