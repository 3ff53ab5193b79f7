using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Cli;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Projections.History;
using Streaming.Projections.Tail;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Tail;

/// <summary>
/// A fold catching up from the start of a log of two partitions, whose history archive holds a block of the job
/// partition (1) and none yet of the control partition (0): what a Projector taking partitions 0 and 1 after a
/// PostgreSQL restart met when its archiver had written partition 1's first block only (README, "Reliability", seed 2).
/// </summary>
public sealed class ArchivedCatchUpTests : IAsyncLifetime
{
    static readonly LogPartitioner Partitioner = new(2, ControlStreamPrefixes.All);

    readonly TestDatabase _database = new();

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync();
        await EventStoreSchema.MigrateAsync(_database.DataSource, StoreSchema.ServiceMigrations, Partitioner, CancellationToken.None);
    }

    public Task DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task A_read_from_the_archive_hands_the_control_partitions_events_before_any_job_event()
    {
        // Given a policy published (partition 0), then 4 events of a job in partition 1, archived in blocks of 4: a block
        // of partition 1 and none of partition 0
        var streams = new EventStreams(_database.DataSource);
        var policy = PolicyPublished.StreamPrefix + Guid.NewGuid().ToString("N");
        await streams.AppendToStreamAsync(policy, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
        var job = PartitionedDatabase.JobIn(Partitioner, 1);
        await streams.AppendToStreamAsync(job, ExpectedVersion.Any, SampleEvents.Events(4), CancellationToken.None);
        var archive = new HistoryArchive(_database.DataSource, NullLogger.Instance, blockSize: 4);
        await archive.StartAsync(CancellationToken.None);
        await FoldCatchUp.RunAsync(archive, new LogSource(_database.DataSource, NullLogger.Instance), CancellationToken.None);
        var start = LogPositions.Start([0, 1]);
        Assert.Single(await HistoryArchive.ReadAsync(_database.DataSource, start, 10, NullLogger.Instance, CancellationToken.None));

        // When a fold that takes the archive reads from the start of both partitions: on its own, and at the tail beside
        // the archiver, which it may not read the archive past (at the end of 1, at the start of 0 where it wrote nothing)
        var alone = await new LogSource(_database.DataSource, NullLogger.Instance).ReadAsync(start, archive: true, CancellationToken.None);
        var archiver = (await SettledTail.EndAsync(_database.DataSource)).With(0, TailPosition.Start);
        var beside = await new LogSource(_database.DataSource, NullLogger.Instance)
            .ReadAsync(start, archive: true, CancellationToken.None, archiveUpTo: archiver);

        // Then each is handed the policy first, then the job's events: the log's order, not the archive's block of 1 alone
        foreach (var batch in new[] { alone, beside })
        {
            Assert.Equal([policy, job, job, job, job], batch.After(start).Select(e => e.StreamId));
        }
    }
}
