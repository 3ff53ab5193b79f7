using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ingest;

public sealed class PipelinedIngestTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_next_batch_is_read_while_the_previous_append_waits_to_commit_and_is_stored_after_it()
    {
        await using var database = await IngestProbe.MigratedAsync();
        await using var ingest = new StandaloneIngest(database.ConnectionString);
        await ingest.StartAsync();
        ingest.Produce(IngestProbe.Signals("pipelined-a", 1, 1));
        await IngestProbe.StoredOffsetAsync(database, 1);

        // Given an append that cannot commit: another transaction holds its stream's row
        await using var held = await HeldRows.LockAsync(database, "select from es.streams where stream_id = 'pipelined-a' for update");
        ingest.Produce(IngestProbe.Signals("pipelined-a", 2, 1));
        await Eventually.True(AnAppendWaitsForALockAsync, Timeout, "Ingest's append to wait for the stream's row");

        // When twenty signals of another job arrive
        ingest.Produce(IngestProbe.Signals("pipelined-b", 1, 20));

        // Then Ingest reads them while that append still waits, and stores none of them before it commits
        await Eventually.Get(() => Task.FromResult(ingest.Counters.Read), read => read >= 22, Timeout, "the next batch to be read during the append");
        Assert.True(await AnAppendWaitsForALockAsync(), "the first append no longer waits");
        Assert.Equal(0, await IngestProbe.EventCountAsync(database, "pipelined-b"));
        Assert.Equal(1, ingest.Counters.Batches);

        // And once it commits, the batch read meanwhile is stored after it
        await held.ReleaseAsync();
        await IngestProbe.StoredOffsetAsync(database, 22);
        Assert.Equal(2, await IngestProbe.EventCountAsync(database, "pipelined-a"));
        Assert.Equal(20, await IngestProbe.EventCountAsync(database, "pipelined-b"));
        Assert.Equal(22, ingest.Counters.Read);

        async Task<bool> AnAppendWaitsForALockAsync()
        {
            await using var command = database.DataSource.CreateCommand(
                "select exists (select from pg_stat_activity where wait_event_type = 'Lock' and (query like '%from es.streams%' or query like '%es.move_heads(%'))");
            return (bool)(await command.ExecuteScalarAsync())!;
        }
    }
}
