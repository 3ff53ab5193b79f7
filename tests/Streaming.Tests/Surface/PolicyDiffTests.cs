using Streaming.Api.Policies;
using Xunit;

namespace Streaming.Tests.Surface;

public sealed class PolicyDiffTests
{
    [Fact]
    public void A_changed_line_in_the_middle_is_one_removal_and_one_addition_between_kept_lines()
    {
        var lines = PolicyDiff.Between("a\nb\nc\nd", "a\nb\nx\nd");

        Assert.Equal(["  a", "  b", "+ x", "- c", "  d"], lines.Select(l => $"{l.Op} {l.Text}"));
    }

    [Fact]
    public void Two_large_unrelated_versions_are_diffed_in_bounded_memory_as_one_block_removed_and_added()
    {
        var before = string.Join("\n", Enumerable.Range(0, 20_000).Select(i => $"before {i}"));
        var after = string.Join("\n", Enumerable.Range(0, 20_000).Select(i => $"after {i}"));
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        var lines = PolicyDiff.Between("same\n" + before + "\nsame", "same\n" + after + "\nsame");

        Assert.True(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore < 64L * 1024 * 1024, "the diff allocated more than 64 MiB");
        Assert.Equal(40_002, lines.Count);
        Assert.Equal(("same", "-", "+", "same"), (lines[0].Text, lines[1].Op, lines[20_001].Op, lines[^1].Text));
    }
}
