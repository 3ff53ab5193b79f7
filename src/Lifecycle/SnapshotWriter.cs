using System.Text;

namespace Streaming.Lifecycle;

/// <summary>A thread's buffer for <see cref="JobLifecycleSnapshot"/>s, with its writer and its index of metric names.</summary>
sealed class SnapshotWriter
{
    /// <summary>The largest buffer a thread keeps between snapshots.</summary>
    public const int MostKept = 64 * 1024;

    public SnapshotWriter() => Writer = new BinaryWriter(Buffer, Encoding.UTF8, leaveOpen: true);

    public MemoryStream Buffer { get; } = new(4096);

    public BinaryWriter Writer { get; }

    public MetricNameIndex Names { get; } = new();
}
