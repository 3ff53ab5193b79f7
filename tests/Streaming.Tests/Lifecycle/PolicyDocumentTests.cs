using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

public sealed class PolicyDocumentTests
{
    const string Valid = """
        name: canary
        priority: 5
        selector:
          matchLabels: { team: orders }
        phases: [a, b, c]
        quarantine: { maxPhaseChanges: 3, within: 2h }
        gates:
          - from: a
            to: b
            soak: 10m
            promote:
              window: 5m
              after: 2
              minSamples: 3
              criteria:
                - { metric: error_rate, aggregation: p95, comparison: "<", threshold: 0.01 }
                - { metric: rows, aggregation: count, comparison: ">=", threshold: 3, missing: fail, minSamples: 1 }
            demote:
              window: 1m30s
              after: 4
              missing: ignore
              criteria:
                - { metric: error_rate, aggregation: p95, comparison: "<", threshold: 0.05 }
        """;

    [Fact]
    public void A_valid_document_reads_into_the_policy_it_describes()
    {
        var parsed = PolicyDocument.Parse(Valid, 7);

        Assert.Empty(parsed.Errors);
        var policy = parsed.Policy!;
        Assert.Equal(("canary@7", 5, "orders"), (policy.Id, policy.Priority, policy.Selector.MatchLabels["team"]));
        Assert.Equal(["a", "b", "c"], policy.Phases);
        Assert.Equal(new QuarantineRule(3, TimeSpan.FromHours(2)), policy.Quarantine);
        var gate = Assert.Single(policy.Gates);
        Assert.Equal(("a", "b", TimeSpan.FromMinutes(10)), (gate.From, gate.To, gate.Soak));
        Assert.Equal((TimeSpan.FromMinutes(5), 2), (gate.Promote.Window, gate.Promote.After));
        Assert.Equal(
            [
                new Criterion("error_rate", Aggregation.P95, Comparison.Less, 0.01, 3, MissingData.Hold),
                new Criterion("rows", Aggregation.Count, Comparison.GreaterOrEqual, 3, 1, MissingData.Fail),
            ],
            gate.Promote.Criteria);
        Assert.Equal((TimeSpan.FromSeconds(90), 4), (gate.Demote!.Window, gate.Demote.After));
        Assert.Equal([new Criterion("error_rate", Aggregation.P95, Comparison.Less, 0.05, 1, MissingData.Ignore)], gate.Demote.Criteria);
        Assert.Null(policy.GateFrom("b"));
    }

    [Fact]
    public void The_shipped_default_document_is_valid()
    {
        var text = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "policies", "cdc-migration.yaml"));

        var parsed = PolicyDocument.Parse(text, 1);

        Assert.Empty(parsed.Errors);
        Assert.Equal(DefaultPolicies.CdcMigrationText, text);
    }

    [Theory]
    [InlineData("priority: 5", "priorty: 5", 2, "priorty", "unknown field")]
    [InlineData("name: canary", "name: Canary Policy", 1, "name", "lowercase")]
    [InlineData("phases: [a, b, c]", "phases: [a]", 5, "phases", "at least two phases")]
    [InlineData("phases: [a, b, c]", "phases: [a, b, a]", 5, "phases[2]", "listed twice")]
    [InlineData("maxPhaseChanges: 3", "maxPhaseChanges: 1", 6, "quarantine.maxPhaseChanges", "from 2 to 32")]
    [InlineData("to: b", "to: c", 9, "gates[0].to", "'a' → 'b', not 'c'")]
    [InlineData("priority: 5", "acknowledgement: { within: soon }", 2, "acknowledgement.within", "not a duration")]
    [InlineData("priority: 5", "stuck: { afterSoaks: 0 }", 2, "stuck.afterSoaks", "at least 1")]
    [InlineData("from: a", "from: z", 8, "gates[0].from", "not one of the policy's phases")]
    [InlineData("soak: 10m", "soak: ten minutes", 10, "gates[0].soak", "not a duration")]
    [InlineData("window: 5m", "window: 0s", 12, "gates[0].promote.window", "longer than zero")]
    [InlineData("after: 2", "after: 0", 13, "gates[0].promote.after", "at least 1")]
    [InlineData("aggregation: p95, comparison: \"<\", threshold: 0.01", "aggregation: p90, comparison: \"<\", threshold: 0.01", 16, "gates[0].promote.criteria[0].aggregation", "'p90' is not an aggregation")]
    [InlineData("comparison: \"<\", threshold: 0.01", "comparison: \"=<\", threshold: 0.01", 16, "gates[0].promote.criteria[0].comparison", "'=<' is not a comparison")]
    [InlineData("threshold: 0.01", "threshold: low", 16, "gates[0].promote.criteria[0].threshold", "'low' is not a number")]
    [InlineData("missing: fail", "missing: skip", 17, "gates[0].promote.criteria[1].missing", "not a missing-data rule")]
    [InlineData("{ metric: error_rate, aggregation: p95, comparison: \"<\", threshold: 0.01 }", "{ aggregation: p95, comparison: \"<\", threshold: 0.01 }", 16, "gates[0].promote.criteria[0].metric", "is required")]
    [InlineData("threshold: 0.05", "threshold: 0.005", 19, "gates[0].demote.criteria[0].threshold", "stricter than the promote threshold 0.01")]
    [InlineData("window: 1m30s", "window: [1m]", 19, "gates[0].demote.window", "expected a single value")]
    public void An_invalid_document_is_rejected_with_the_line_and_field_of_each_error(
        string replace, string with, int line, string field, string message)
    {
        Assert.Contains(replace, Valid, StringComparison.Ordinal);

        var parsed = PolicyDocument.Parse(Valid.Replace(replace, with, StringComparison.Ordinal), 1);

        Assert.Null(parsed.Policy);
        var error = Assert.Single(parsed.Errors, e => e.Field == field);
        Assert.Equal(line, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.StartsWith($"line {line}, column ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Every_error_of_a_document_is_reported_at_once()
    {
        var parsed = PolicyDocument.Parse(Valid.Replace("after: 2", "after: -1").Replace("soak: 10m", "soak: x"), 1);

        Assert.Equal(["gates[0].promote.after", "gates[0].soak"], parsed.Errors.Select(e => e.Field).Order());
    }

    [Theory]
    [InlineData("name: [unclosed", "document")]
    [InlineData("- just\n- a list", "document")]
    [InlineData("", "document")]
    public void Text_that_is_not_a_policy_mapping_is_rejected(string text, string field)
    {
        var parsed = PolicyDocument.Parse(text, 1);

        Assert.Null(parsed.Policy);
        Assert.Equal(field, Assert.Single(parsed.Errors).Field);
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("15m", 900)]
    [InlineData("1h30m", 5400)]
    [InlineData("2d", 172800)]
    [InlineData("1.5h", 5400)]
    [InlineData("250ms", 0.25)]
    public void Durations_read_in_the_usual_units(string text, double seconds)
    {
        Assert.True(PolicyDurations.TryParse(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("")]
    [InlineData("15")]
    [InlineData("m15")]
    [InlineData("15 m")]
    [InlineData("-5m")]
    public void Other_durations_are_not_read(string text) => Assert.False(PolicyDurations.TryParse(text, out _));
}
