using System.Collections;

namespace Streaming.Lifecycle;

/// <summary>
/// A job's window of samples, sorted by event time: an immutable value that shares its array with the windows it was
/// made from. A sample added after the last one is written into the array's next free slot when no other window has
/// taken it, and dropping the oldest samples only moves the start, so the usual step of a fold (one sample in, the
/// expired ones out) copies nothing; the array is copied when it is full, when a sample arrives out of order, or when
/// another window already took the next slot. A window made earlier never sees the slots added after it.
/// </summary>
public readonly struct WindowSamples : IReadOnlyList<WindowSample>, IEquatable<WindowSamples>
{
    readonly Shared? _shared;
    readonly int _start;
    readonly int _count;

    WindowSamples(Shared shared, int start, int count) => (_shared, _start, _count) = (shared, start, count);

    /// <summary>
    /// Most samples a window keeps: beyond it the oldest are dropped, so a producer that signals far faster than its
    /// policy's windows need cannot grow a job's state without bound. Criteria then read the newest this many.
    /// </summary>
    public const int MostSamples = 10_000;

    public static WindowSamples Empty => default;

    public int Length => _count;

    int IReadOnlyCollection<WindowSample>.Count => _count;

    public WindowSample this[int index] => AsSpan()[index];

    public static WindowSamples Of(WindowSample[] ordered) =>
        ordered.Length == 0 ? Empty : new WindowSamples(new Shared(ordered, ordered.Length), 0, ordered.Length);

    public ReadOnlySpan<WindowSample> AsSpan() => _shared is null ? [] : _shared.Items.AsSpan(_start, _count);

    public static implicit operator ReadOnlySpan<WindowSample>(WindowSamples window) => window.AsSpan();

    public ReadOnlySpan<WindowSample>.Enumerator GetEnumerator() => AsSpan().GetEnumerator();

    IEnumerator<WindowSample> IEnumerable<WindowSample>.GetEnumerator()
    {
        for (var i = 0; i < _count; i++)
        {
            yield return _shared!.Items[_start + i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<WindowSample>)this).GetEnumerator();

    /// <summary>
    /// The window with <paramref name="sample"/> inserted in event-time order (after samples emitted at the same time)
    /// and every sample emitted at or before <paramref name="keepAfter"/> dropped.
    /// </summary>
    public WindowSamples Add(WindowSample sample, DateTimeOffset keepAfter)
    {
        var samples = AsSpan();
        var keepFrom = SampleWindow.FirstAfter(samples, keepAfter);
        if (sample.EmittedAt <= keepAfter)
        {
            return keepFrom == 0 ? this : keepFrom == _count ? Empty : new WindowSamples(_shared!, _start + keepFrom, _count - keepFrom);
        }
        keepFrom = Math.Max(keepFrom, _count - (MostSamples - 1));
        var kept = _count - keepFrom;
        var inOrder = kept == 0 || samples[^1].EmittedAt <= sample.EmittedAt;
        if (inOrder && kept > 0 && _shared!.TryTake(_start + _count, sample))
        {
            return new WindowSamples(_shared, _start + keepFrom, kept + 1);
        }
        // A new array with room to grow by a quarter (at least four samples) before the next copy; a window's first
        // array has room for one more only, as a fleet holds many jobs that signalled once or twice since a phase began.
        var items = new WindowSample[kept + 1 + (kept == 0 ? 1 : Math.Max(4, kept / 4))];
        var insertAt = kept;
        while (insertAt > 0 && samples[keepFrom + insertAt - 1].EmittedAt > sample.EmittedAt)
        {
            insertAt--;
        }
        samples.Slice(keepFrom, insertAt).CopyTo(items);
        items[insertAt] = sample;
        samples[(keepFrom + insertAt)..].CopyTo(items.AsSpan(insertAt + 1));
        return new WindowSamples(new Shared(items, kept + 1), 0, kept + 1);
    }

    public bool Equals(WindowSamples other) =>
        ReferenceEquals(_shared, other._shared) && _start == other._start && _count == other._count
        || _count == 0 && other._count == 0;

    public override bool Equals(object? obj) => obj is WindowSamples other && Equals(other);

    public override int GetHashCode() => _count == 0 ? 0 : HashCode.Combine(_shared, _start, _count);

    public static bool operator ==(WindowSamples left, WindowSamples right) => left.Equals(right);

    public static bool operator !=(WindowSamples left, WindowSamples right) => !left.Equals(right);

    // The array and how many of its slots some window has taken; slots are only ever taken at the end, once each.
    sealed class Shared(WindowSample[] items, int used)
    {
        int _used = used;

        public WindowSample[] Items => items;

        public bool TryTake(int slot, WindowSample sample)
        {
            if (slot >= items.Length || Interlocked.CompareExchange(ref _used, slot + 1, slot) != slot)
            {
                return false;
            }
            items[slot] = sample;
            return true;
        }
    }
}
