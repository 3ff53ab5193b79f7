using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace Streaming.Api.Auth;

/// <summary>
/// Failed sign-ins and refused bearer tokens per client address, in fixed windows: past
/// <see cref="ApiOptions.MostFailedAuthentications"/> in <see cref="ApiOptions.FailedAuthenticationWindow"/>, the address
/// is refused (429) until the window ends, before any token is looked up.
/// </summary>
public sealed class FailedAuthentications(IOptions<ApiOptions> options, TimeProvider clock)
{
    const int MostAddresses = 100_000;

    sealed record Window(DateTimeOffset Start, int Failures);

    readonly ConcurrentDictionary<IPAddress, Window> _windows = new();

    /// <summary>How long <paramref name="address"/> must wait, or null when it may try.</summary>
    public TimeSpan? RetryAfter(IPAddress address)
    {
        var now = clock.GetUtcNow();
        if (!_windows.TryGetValue(address, out var window) || window.Failures < options.Value.MostFailedAuthentications)
        {
            return null;
        }
        var ends = window.Start + options.Value.FailedAuthenticationWindow;
        return ends > now ? ends - now : null;
    }

    public void Record(IPAddress address)
    {
        var now = clock.GetUtcNow();
        var length = options.Value.FailedAuthenticationWindow;
        if (_windows.Count >= MostAddresses)
        {
            foreach (var stale in _windows.Where(w => w.Value.Start + length <= now).Select(w => w.Key).ToList())
            {
                _windows.TryRemove(stale, out _);
            }
        }
        _windows.AddOrUpdate(address, _ => new Window(now, 1),
            (_, window) => window.Start + length <= now ? new Window(now, 1) : window with { Failures = window.Failures + 1 });
    }
}
