using System.Text;
using Streaming.Lifecycle;
using Xunit;

namespace Streaming.Tests.Lifecycle;

public sealed class PolicyBudgetTests
{
    [Theory]
    [InlineData("[", "]")]
    [InlineData("{a: ", "}")]
    public void A_document_nested_fifty_thousand_levels_deep_is_refused_before_it_is_parsed(string open, string close)
    {
        var deep = "name: deep\nphases: " + string.Concat(Enumerable.Repeat(open, 50_000)) + "x" + string.Concat(Enumerable.Repeat(close, 50_000));

        var parsed = PolicyDocument.Parse(deep, 1);

        Assert.Null(parsed.Policy);
        Assert.Contains("nests deeper than", Assert.Single(parsed.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_block_style_document_nested_fifty_thousand_levels_deep_is_refused()
    {
        var text = "name: deep\nphases:\n  " + string.Concat(Enumerable.Repeat("- ", 50_000)) + "x\n";

        var parsed = PolicyDocument.Parse(text, 1);

        Assert.Contains("nests deeper than", Assert.Single(parsed.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_alias_bomb_is_refused_by_its_expanded_size()
    {
        var text = new StringBuilder("name: bomb\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for (var level = 1; level < 9; level++)
        {
            var previous = $"*a{level - 1}";
            text.Append($"a{level}: &a{level} [{string.Join(", ", Enumerable.Repeat(previous, 10))}]\n");
        }

        var parsed = PolicyDocument.Parse(text.ToString(), 1);

        Assert.Contains("aliases expanded", Assert.Single(parsed.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_document_larger_than_the_budget_is_refused_by_its_size()
    {
        var parsed = PolicyDocument.Parse("name: big\ndescription: " + new string('x', PolicyTextBudget.MostCharacters), 1);

        Assert.Contains("characters", Assert.Single(parsed.Errors).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Thousands_of_aliased_criteria_are_refused_by_their_count_before_the_hysteresis_check_compares_them()
    {
        var criteria = "criteria: &c [" + string.Join(", ", Enumerable.Repeat("{ metric: m, aggregation: max, comparison: '<', threshold: 1 }", 2_000)) + "]";
        var text = $"""
            name: wide
            phases: [a, b]
            gates:
              - from: a
                to: b
                promote: {"{"} window: 1m, {criteria} {"}"}
                demote: {"{"} window: 1m, criteria: *c {"}"}
            """;
        var parsed = PolicyDocument.Parse(text, 1);

        Assert.Contains(parsed.Errors, e => e.Message == $"at most {PolicyDocument.MostItems} criteria");
    }

    [Fact]
    public void The_error_list_stops_after_the_most_errors_and_says_so()
    {
        var fields = string.Join("\n", Enumerable.Range(0, 500).Select(i => $"unknown{i}: 1"));

        var parsed = PolicyDocument.Parse("name: noisy\nphases: [a, b]\ngates: []\n" + fields, 1);

        Assert.Equal(PolicyDocument.MostErrors + 1, parsed.Errors.Count);
        Assert.Contains("not listed", parsed.Errors[^1].Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("99999999999d")]
    [InlineData("99999999d")]
    [InlineData("3651d")]
    public void A_duration_beyond_ten_years_is_not_a_duration(string text) =>
        Assert.False(PolicyDurations.TryParse(text, out _));

    [Fact]
    public void A_soak_that_overflows_is_an_error_naming_the_field()
    {
        var parsed = PolicyDocument.Parse("""
            name: long
            phases: [a, b]
            gates:
              - { from: a, to: b, soak: 99999999999d, promote: { window: 1m } }
            """, 1);

        Assert.Equal("gates[0].soak", Assert.Single(parsed.Errors).Field);
    }
}
