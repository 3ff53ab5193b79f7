using Streaming.Cli;
using Streaming.Contracts;
using Streaming.Embedded.Broker;
using Streaming.EventStore;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Tail;

namespace Streaming.Tests.Ownership;

/// <summary>
/// What the in-process tests of a <see cref="Projections.Ownership.ShareFollower"/> run on: a migrated store of the
/// given partitions with the <see cref="CountingFold"/>'s table, an embedded broker whose <c>job-signals</c> has as many
/// partitions, the log lines of the follower, and the name of the fold it runs.
/// </summary>
public sealed class FollowerStore(LogPartitioner partitioner, string name)
{
    public TestDatabase Database { get; } = new();

    public EmbeddedKafkaCluster Kafka { get; } = EmbeddedKafkaCluster.Start();

    public RecordingLoggerProvider Logs { get; } = new();

    /// <summary>The fold's name, unique to the test.</summary>
    public string Name { get; } = name + "-" + Guid.NewGuid().ToString("N");

    public EventStreams Streams => new(Database.DataSource);

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        await EventStoreSchema.MigrateAsync(Database.DataSource, StoreSchema.ServiceMigrations, partitioner, CancellationToken.None);
        await CountingFold.CreateTableAsync(Database.DataSource);
        Kafka.CreateTopic(Topics.Signals, partitioner.Partitions);
    }

    public async Task DisposeAsync()
    {
        Kafka.Dispose();
        await Database.DisposeAsync();
    }

    /// <summary>What follows <paramref name="prefix"/> in each logged line that holds it, in order.</summary>
    public List<string> Logged(string prefix) =>
        [.. Logs.Logger.Entries.Select(e => e.Message).Where(m => m.Contains(prefix, StringComparison.Ordinal))
            .Select(m => m[(m.IndexOf(prefix, StringComparison.Ordinal) + prefix.Length)..])];
}
