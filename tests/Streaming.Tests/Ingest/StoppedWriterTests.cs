using Npgsql;
using Streaming.Contracts;
using Streaming.Hosting.Resilience;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Tests.EventStore;

namespace Streaming.Tests.Ingest;

/// <summary>
/// An Ingest writer stopped in the middle of its transaction (SIGSTOP, a frozen VM) holds its partitions' stored offsets
/// locked: the server ends that transaction once it has idled 5 s, so the partitions' next owner stores instead of waiting
/// for the writer to wake, and the writer, when it does, gets an error Ingest retries (its rerun is then fenced). A writer
/// stopped inside a statement (mid-COPY: the server waits for its rows) is not idle: the next owner, once it has waited
/// past its lock limit, ends it.
/// </summary>
public sealed class StoppedWriterTests
{
    const string Group = "streaming-ingest";

    [Fact]
    public async Task A_transaction_left_idle_in_the_middle_of_an_append_is_ended_so_the_partitions_next_owner_stores()
    {
        await using var database = await IngestProbe.MigratedAsync();
        var log = new SignalLog(database.DataSource);
        await log.AppendSignalsAsync([], [Advance(null, 1)], CancellationToken.None);

        // Given a writer that moved partition 0's offset in a transaction it then leaves open, as a stopped process does
        await using var stopped = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await stopped.BeginTransactionAsync();
        await log.AppendSignalsAsync(transaction, [], [Advance(1, 2)], CancellationToken.None);

        // When the partition's next owner stores from the same offset, rerunning what fails transiently as Ingest does
        var started = DateTime.UtcNow;
        await StoreRetryingAsync(log, Advance(1, 3)).WaitAsync(TimeSpan.FromSeconds(20));
        var waited = DateTime.UtcNow - started;

        // Then it stored once the server had ended the idle transaction (not after the 30 s command timeout, nor never)
        Assert.Equal(3, (await log.LoadKafkaOffsetsAsync(Group, Topics.Signals, CancellationToken.None))[0]);
        Assert.True(waited >= TimeSpan.FromSeconds(4), $"the next owner waited only {waited.TotalSeconds:0.0} s: the stopped writer held no lock");

        // And the stopped writer's commit fails with an error Ingest waits out and reruns the batch after
        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() => transaction.CommitAsync());
        Assert.True(TransientFaults.IsTransient(error), $"not transient: {error}");
    }

    [Fact]
    public async Task A_writer_stopped_in_the_middle_of_its_copy_has_its_statement_ended_so_the_partitions_next_owner_stores()
    {
        await using var database = await IngestProbe.MigratedAsync();
        var log = new SignalLog(database.DataSource);
        var job = SampleEvents.NewStreamId("job");
        await log.AppendSignalsAsync([SampleEvents.Signal(job, 1)], [Advance(null, 1)], CancellationToken.None);

        // Given a writer that moved partition 0's offset and began its COPY, then stopped sending rows: the server waits
        // inside the statement, where the idle limit does not reach
        await using var stopped = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await stopped.BeginTransactionAsync();
        await log.AppendSignalsAsync(transaction, [], [Advance(1, 2)], CancellationToken.None);
        var copy = await stopped.BeginBinaryImportAsync("copy es.events (stream_id, version, event_id, type, data, seq, event_time, partition) from stdin (format binary)");

        // When the partition's next owner stores from the same offset, rerunning what fails transiently as Ingest does
        var started = DateTime.UtcNow;
        // (a signal of a stream the stopped writer does not hold: the wait is on the offset, the batch's second statement)
        await StoreRetryingAsync(log, Advance(1, 3), SampleEvents.Signal(job, 2)).WaitAsync(TimeSpan.FromSeconds(30));
        var waited = DateTime.UtcNow - started;

        // Then it stored once it had waited out its lock limit and ended the stopped writer, not never
        Assert.Equal(3, (await log.LoadKafkaOffsetsAsync(Group, Topics.Signals, CancellationToken.None))[0]);
        Assert.Equal(2, await new EventStreams(database.DataSource).ReadVersionAsync(job, CancellationToken.None));
        Assert.True(waited >= TimeSpan.FromSeconds(4), $"the next owner waited only {waited.TotalSeconds:0.0} s: the stopped writer held no lock");

        // And the stopped writer's COPY fails with an error Ingest waits out and reruns the batch after
        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(async () => await copy.CompleteAsync());
        Assert.True(TransientFaults.IsTransient(error), $"not transient: {error}");
    }

    static async Task StoreRetryingAsync(SignalLog log, KafkaOffsetAdvance advance, params SignalToAppend[] signals)
    {
        while (true)
        {
            try
            {
                await log.AppendSignalsAsync(signals, [advance], CancellationToken.None);
                return;
            }
            catch (PostgresException e) when (TransientFaults.IsTransient(e))
            {
            }
        }
    }

    static KafkaOffsetAdvance Advance(long? expected, long next) => new(Group, Topics.Signals, 0, expected, next);
}
