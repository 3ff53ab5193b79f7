using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Streaming.Api.Live;

/// <summary>How many live event streams each session or token holds open, capped at <see cref="ApiOptions.MostLiveStreamsPerSession"/>.</summary>
public sealed class LiveStreamSlots(IOptions<ApiOptions> options)
{
    readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    /// <summary>A slot for <paramref name="holder"/>, given back when disposed; null when it holds the most already.</summary>
    public IDisposable? TryTake(string holder)
    {
        while (true)
        {
            var open = _open.GetOrAdd(holder, 0);
            if (open >= options.Value.MostLiveStreamsPerSession)
            {
                return null;
            }
            if (_open.TryUpdate(holder, open + 1, open))
            {
                return new Slot(this, holder);
            }
        }
    }

    void Release(string holder)
    {
        while (_open.TryGetValue(holder, out var open))
        {
            if (open <= 1 ? _open.TryRemove(new KeyValuePair<string, int>(holder, open)) : _open.TryUpdate(holder, open - 1, open))
            {
                return;
            }
        }
    }

    sealed class Slot(LiveStreamSlots slots, string holder) : IDisposable
    {
        int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                slots.Release(holder);
            }
        }
    }
}
