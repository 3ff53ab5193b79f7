namespace Streaming.Api;

/// <summary>The HTTP API and dashboards (configuration section <c>Api</c>).</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>
    /// Where the default tokens are kept (<c>{ "viewer": …, "operator": …, "admin": … }</c>, mode 0600): created with one
    /// token per role on first start when set; empty: tokens are managed with the command-line tool only.
    /// </summary>
    public string TokensFile { get; set; } = "";

    /// <summary>How long a browser session lasts without being used.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>How long a browser session lasts at most, however much it is used.</summary>
    public TimeSpan SessionAbsoluteLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Where the Data Protection key ring (what session cookies are sealed with) is kept, owner-only (0700/0600); empty:
    /// <c>api-keys</c> in <c>$STREAMING_DATA</c>, or in <c>.data</c> when that is not set.
    /// </summary>
    public string KeyRingFolder { get; set; } = "";

    /// <summary>The largest request body Kestrel accepts on any endpoint (413 beyond); signing in and publishing a policy have their own.</summary>
    public long MaxRequestBodyBytes { get; set; } = 256 * 1024;

    /// <summary>Failed authentications (an unknown bearer token, a failed sign-in) one client address may make per window before 429.</summary>
    public int MostFailedAuthentications { get; set; } = 10;

    /// <summary>The window <see cref="MostFailedAuthentications"/> counts in; a refused address waits for its end.</summary>
    public TimeSpan FailedAuthenticationWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Most live event streams (<c>/api/v1/live</c>) one session or token may hold open at once (429 beyond).</summary>
    public int MostLiveStreamsPerSession { get; set; } = 4;

    /// <summary>Whether <c>/metrics</c> is open to anyone (for a scraper on a private network); otherwise it needs the viewer role.</summary>
    public bool AnonymousMetrics { get; set; }

    /// <summary>
    /// Behind a TLS-terminating proxy: honour <c>X-Forwarded-For</c>/<c>-Proto</c> from <see cref="KnownProxies"/> and
    /// <see cref="KnownNetworks"/> (loopback when both are empty), so cookies are <c>Secure</c> and HSTS is sent.
    /// </summary>
    public bool ForwardedHeaders { get; set; }

    /// <summary>Addresses of the proxies whose forwarded headers are honoured.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR, e.g. <c>10.0.0.0/8</c>) whose forwarded headers are honoured.</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>Most events a fold may be behind the log before the service reports itself not ready.</summary>
    public long ReadyMaxLagEvents { get; set; } = 500_000;

    /// <summary>Longest a fold may be behind the log (time since the oldest event it has not read) before not ready.</summary>
    public TimeSpan ReadyMaxLag { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether this process folds the log into the fleet's history (the decision feed, moves per hour, phase counts over time).</summary>
    public bool FoldFleetHistory { get; set; } = true;
}
