using Streaming.Bench;
using Streaming.Bench.Scale;

namespace Streaming.Tests.Bench;

/// <summary><c>./bench.sh scale</c> reads its instance counts and refuses, with a message naming the flag, what it cannot use.</summary>
public sealed class ScaleSettingsTests
{
    static readonly string[] Paths =
        ["--postgres", "Host=a", "--postgres-shard1", "Host=b", "--embedded", "e.dll", "--ingest", "i.dll", "--projector", "p.dll", "--promoter", "q.dll"];

    [Fact]
    public void Reads_the_instance_counts_and_the_defaults_of_the_issue()
    {
        var settings = ScaleSettings.Parse([.. Paths, "--instances", "1,2,3"]);

        Assert.Equal([1, 2, 3], settings.Instances);
        Assert.Equal(10_000, settings.Jobs);
        // Two minutes of signals an instance count, so each copy's start-up weighs little on its CPU per signal.
        Assert.Equal(120, settings.Seconds);
        Assert.Equal(1_000_000, settings.FleetJobs);
        Assert.Equal(["Host=a", "Host=b"], settings.ShardConnectionStrings);
        Assert.True(settings.Takeover);
    }

    [Theory]
    [InlineData("0", "--instances takes instance counts from 1 to 12")]
    [InlineData("1,,2", "--instances takes instance counts from 1 to 12")]
    [InlineData("13", "--instances takes instance counts from 1 to 12")]
    [InlineData("two", "--instances takes instance counts from 1 to 12")]
    [InlineData("2,2", "--instances names 2 twice")]
    public void Refuses_instance_counts_it_cannot_run(string instances, string message)
    {
        var refused = Assert.Throws<BenchUsageException>(() => ScaleSettings.Parse([.. Paths, "--instances", instances]));

        Assert.StartsWith(message, refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--jobs", "0", "--jobs must be at least 1")]
    [InlineData("--takeover-instances", "1", "--takeover-instances must be at least 2")]
    [InlineData("--fleet-jobs", "many", "--fleet-jobs is a whole number, not 'many'")]
    [InlineData("--fleet-instances", "13", "--fleet-instances 13: at most 12, the partitions a group shares out")]
    [InlineData("--shards", "2", "unknown flag --shards")]
    public void Refuses_other_values_it_cannot_use(string flag, string value, string message)
    {
        var refused = Assert.Throws<BenchUsageException>(() => ScaleSettings.Parse([.. Paths, flag, value]));

        Assert.Equal(message, refused.Message);
    }

    [Fact]
    public void Needs_no_second_cluster_without_the_fleet()
    {
        var settings = ScaleSettings.Parse(["--postgres", "Host=a", "--embedded", "e.dll", "--ingest", "i.dll", "--projector", "p.dll", "--promoter", "q.dll", "--no-fleet"]);

        Assert.False(settings.Fleet);
        Assert.Equal(["Host=a"], settings.ShardConnectionStrings);
    }
}
