using Microsoft.Extensions.Logging.Abstractions;
using Streaming.EventStore;
using Streaming.Projections.History;
using Streaming.Projections.Tail;
using Streaming.Tests.EventStore;

namespace Streaming.Tests.Tail;

/// <summary>
/// Reads from the history archive over a partitioned log whose control partition the archive does not hold: a shard's
/// relayed copy of the control streams, too few events to fill a block. Found by the fault suite over two shards, where
/// a rebuild of shard 1 folded its jobs before the policy and left a quarter of them "no-policy".
/// </summary>
public sealed class ArchivedControlPartitionTests(PartitionedDatabase database) : IClassFixture<PartitionedDatabase>
{
    [Fact]
    public async Task A_read_from_the_start_hands_the_control_events_before_the_archived_job_blocks_and_then_reads_the_archive()
    {
        // Given a policy in the control partition, then 40 events of a job in each other partition, archived in blocks
        // of 10 (the control partition's one event fills none)
        var streams = new EventStreams(database.DataSource);
        var policy = "policy:" + Guid.NewGuid().ToString("N");
        await streams.AppendToStreamAsync(policy, ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
        foreach (var job in Enumerable.Range(1, PartitionedDatabase.Partitions - 1).Select(PartitionedDatabase.JobIn))
        {
            for (var i = 0; i < 40; i += 5)
            {
                await streams.AppendToStreamAsync(job, ExpectedVersion.Any, SampleEvents.Events(5), CancellationToken.None);
            }
        }
        var archived = await new HistoryArchive(database.DataSource, NullLogger.Instance, blockSize: 10).CatchUpAsync(CancellationToken.None);
        Assert.Equal(120, archived);

        // When a source reads every partition from the start, from the archive where it may
        var source = new LogSource(database.DataSource, NullLogger.Instance, batchSize: 5);
        var at = LogPositions.Start(PartitionedDatabase.Partitions);
        var handed = new List<string>();
        var fromArchive = 0;
        for (var batch = await source.ReadAsync(at, archive: true, CancellationToken.None); !batch.IsEmpty; batch = await source.ReadAsync(at, archive: true, CancellationToken.None))
        {
            handed.AddRange(batch.Events.Select(e => e.StreamId));
            fromArchive += batch.FromArchive ? 1 : 0;
            at = batch.End;
        }

        // Then the policy came first, each event once, and the job partitions' rest from the archive
        Assert.Equal(policy, handed[0]);
        Assert.Equal(121, handed.Count);
        Assert.True(fromArchive > 0, "nothing was read from the archive");
    }
}
