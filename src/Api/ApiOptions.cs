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

    /// <summary>Most events a fold may be behind the log before the service reports itself not ready.</summary>
    public long ReadyMaxLagEvents { get; set; } = 500_000;

    /// <summary>Longest a fold may be behind the log (time since the oldest event it has not read) before not ready.</summary>
    public TimeSpan ReadyMaxLag { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether this process folds the log into the fleet's history (the decision feed, moves per hour, phase counts over time).</summary>
    public bool FoldFleetHistory { get; set; } = true;
}
