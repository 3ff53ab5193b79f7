using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Notifications;

/// <summary>The monitoring files shipped in <c>deploy/</c>: the Prometheus alert rules, their promtool tests, the Grafana dashboard.</summary>
public static partial class MonitoringFiles
{
    public static string AlertRules => Path.Combine(RepositoryRoot.Path, "deploy", "prometheus", "alerts.yml");

    public static string AlertRuleTests => Path.Combine(RepositoryRoot.Path, "deploy", "prometheus", "alerts.test.yml");

    public static string Dashboard => Path.Combine(RepositoryRoot.Path, "deploy", "grafana", "streaming-dashboard.json");

    /// <summary>The PromQL expressions of the alert rules (each rule's <c>expr:</c>).</summary>
    public static IReadOnlyList<string> AlertExpressions() =>
        [.. File.ReadAllLines(AlertRules).Select(l => l.Trim()).Where(l => l.StartsWith("expr:", StringComparison.Ordinal)).Select(l => l["expr:".Length..].Trim())];

    /// <summary>The series names the promtool tests feed the rules.</summary>
    public static IReadOnlyList<string> TestSeries() =>
        [.. File.ReadAllLines(AlertRuleTests).Select(l => l.Trim()).Where(l => l.StartsWith("- series:", StringComparison.Ordinal))
            .Select(l => l["- series:".Length..].Trim().Trim('\'', '"'))];

    /// <summary>The PromQL expressions of every panel's targets.</summary>
    public static IReadOnlyList<string> DashboardExpressions()
    {
        var dashboard = JsonNode.Parse(File.ReadAllText(Dashboard))!;
        return [.. dashboard["panels"]!.AsArray().SelectMany(p => p!["targets"]!.AsArray()).Select(t => t!["expr"]!.GetValue<string>())];
    }

    /// <summary>The metric names an expression reads: ours (<c>streaming_</c>) and Npgsql's (<c>db_client_</c>), label names and functions aside.</summary>
    public static IEnumerable<string> MetricNames(string expression) =>
        MetricName().Matches(LabelMatchers().Replace(expression, "")).Select(m => m.Value);

    /// <summary>The metric names a Prometheus text exposition holds (each sample's name, histograms' <c>_bucket</c> and all).</summary>
    public static IReadOnlySet<string> Exported(string exposition) =>
        exposition.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => SampleName().Match(l).Value).Where(n => n.Length > 0).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"\b(streaming|db_client)_[a-zA-Z0-9_]+\b")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex SampleName();
}
