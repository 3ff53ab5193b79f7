using System.Text.Json.Nodes;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Notifications;

/// <summary>The shipped Prometheus rules pass promtool's own checks and tests, and the dashboard is a Grafana dashboard of PromQL panels.</summary>
public sealed class AlertRuleTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_alert_rules_are_valid_and_pass_their_promtool_tests()
    {
        var check = await PromtoolAsync("check", "rules", MonitoringFiles.AlertRules);
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Contains("SUCCESS: 10 rules found", check.Output, StringComparison.Ordinal);

        var test = await PromtoolAsync("test", "rules", MonitoringFiles.AlertRuleTests);
        Assert.True(test.ExitCode == 0, test.Output);
        Assert.Contains("SUCCESS", test.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broken_expectation_fails_promtool_so_the_test_above_can_fail()
    {
        using var folder = new TemporaryFolder();
        File.Copy(MonitoringFiles.AlertRules, Path.Combine(folder.Path, "alerts.yml"));
        var tests = await File.ReadAllTextAsync(MonitoringFiles.AlertRuleTests);
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "alerts.test.yml"),
            tests.Replace("summary: \"2 more jobs stuck than 15 minutes ago\"", "summary: \"3 more jobs stuck than 15 minutes ago\"", StringComparison.Ordinal));

        var test = await PromtoolAsync("test", "rules", Path.Combine(folder.Path, "alerts.test.yml"));

        Assert.NotEqual(0, test.ExitCode);
        Assert.Contains("StreamingJobsNewlyStuck", test.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_alert_and_every_dashboard_panel_reads_metrics_and_every_rule_is_tested()
    {
        var expressions = MonitoringFiles.AlertExpressions();
        Assert.Equal(10, expressions.Count);
        Assert.All(expressions, e => Assert.NotEmpty(MonitoringFiles.MetricNames(e)));
        var dashboard = JsonNode.Parse(File.ReadAllText(MonitoringFiles.Dashboard))!;
        Assert.Equal("streaming-fleet", dashboard["uid"]!.GetValue<string>());
        Assert.All(dashboard["panels"]!.AsArray(), p => Assert.NotEmpty(p!["targets"]!.AsArray()));
        Assert.All(MonitoringFiles.DashboardExpressions(), e => Assert.NotEmpty(MonitoringFiles.MetricNames(e)));
        var tested = File.ReadAllText(MonitoringFiles.AlertRuleTests);
        foreach (var alert in File.ReadAllLines(MonitoringFiles.AlertRules).Select(l => l.Trim()).Where(l => l.StartsWith("- alert:", StringComparison.Ordinal)))
        {
            Assert.Contains("alertname: " + alert["- alert:".Length..].Trim(), tested, StringComparison.Ordinal);
        }
    }

    static async Task<(int ExitCode, string Output)> PromtoolAsync(params string[] arguments)
    {
        await DebianPackages.RequireAsync();
        var promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("promtool is not installed: scripts/setup.sh installs Debian's prometheus package");
        await using var process = RunningProcess.Start(promtool, arguments, workingDirectory: Path.GetDirectoryName(arguments[^1]));
        var exitCode = await process.WaitForExitAsync(Timeout);
        return (exitCode, process.Output);
    }
}
