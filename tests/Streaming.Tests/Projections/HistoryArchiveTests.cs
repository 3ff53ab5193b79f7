using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Lifecycle;
using Streaming.Projections.History;
using Streaming.Projections.Tail;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Projections;

public sealed class HistoryArchiveTests
{
    static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.FromHours(1));

    static async Task<MigratedDatabase> StoreAsync()
    {
        var database = new MigratedDatabase();
        await database.InitializeAsync();
        return database;
    }

    // Each append waits for the tail to settle: an open transaction anywhere on the server can hold a commit back.
    static async Task AppendSignalsAsync(NpgsqlDataSource dataSource, string job, int from, int count)
    {
        var signals = Enumerable.Range(from, count).Select(seq =>
        {
            var signal = new SignalRecorded(job, seq, Start.AddMinutes(seq), "shadow",
                new Dictionary<string, double> { ["error_rate"] = seq / 1000.0, ["landing_latency_p95_ms"] = 800 + seq },
                new Dictionary<string, string> { ["team"] = "orders" }, $"corr-{seq}");
            return new SignalToAppend(job, seq, EventIds.ForSignal(job, seq), SignalRecorded.EventType, ContractsJson.Serialize(signal), "{}", signal.EmittedAt);
        }).ToList();
        await new SignalLog(dataSource).AppendSignalsAsync(signals, [], CancellationToken.None);
        await SettledTail.EndAsync(dataSource);
    }

    static async Task AppendOtherAsync(NpgsqlDataSource dataSource, string stream)
    {
        await new EventStreams(dataSource).AppendToStreamAsync(stream, ExpectedVersion.Any,
            [new EventToAppend(Guid.NewGuid(), "known-issue-opened/v1", """{"title":"lag"}""", "{}", Start)], CancellationToken.None);
        await SettledTail.EndAsync(dataSource);
    }

    static async Task<List<RecordedEvent>> LogAsync(NpgsqlDataSource dataSource) =>
        [.. await new Streaming.EventStore.EventLog(dataSource).ReadTailAsync(LogPositions.Start(1), 1_000, CancellationToken.None)];

    static async Task<List<HistoryBlock>> BlocksAsync(NpgsqlDataSource dataSource, TailPosition after) =>
        [.. await HistoryArchive.ReadAsync(dataSource, LogPositions.At(0, after), 100, NullLogger.Instance, CancellationToken.None)];

    [Fact]
    public async Task Stores_whole_blocks_of_the_log_with_its_checkpoint_and_a_restarted_archive_continues_after_them()
    {
        await using var store = await StoreAsync();
        await AppendSignalsAsync(store.DataSource, "job-1", 1, 4);
        await AppendOtherAsync(store.DataSource, "issue-1");
        await AppendSignalsAsync(store.DataSource, "job-2", 1, 2);

        // 7 events in blocks of 3: two blocks, the seventh waits for the next two
        Assert.Equal(6, await new HistoryArchive(store.DataSource, NullLogger.Instance, blockSize: 3).CatchUpAsync(CancellationToken.None));
        var log = await LogAsync(store.DataSource);
        var blocks = await BlocksAsync(store.DataSource, TailPosition.Start);
        Assert.Equal([log[2].Position, log[5].Position], blocks.Select(b => b.End));
        Assert.Equal(LogPositions.At(0, log[5].Position), await HistoryArchive.ReachedAsync(store.DataSource, CancellationToken.None));

        // Each event comes back as logged, its signal already read (correlation ids are not kept)
        var archived = blocks.SelectMany(b => b.Events).ToList();
        Assert.Equal(log.Take(6).Select(e => (e.Position, e.StreamId, e.Version, e.Type, e.Seq, e.EventTime)),
            archived.Select(a => (a.Event.Position, a.Event.StreamId, a.Event.Version, a.Event.Type, a.Event.Seq, a.Event.EventTime)));
        for (var i = 0; i < 6; i++)
        {
            if (log[i].Type != SignalRecorded.EventType)
            {
                Assert.Null(archived[i].Signal);
                Assert.Equal((log[i].EventId, log[i].Data), (archived[i].Event.EventId, archived[i].Event.Data));
                continue;
            }
            var expected = ContractsJson.Deserialize<SignalRecorded>(log[i].Data);
            var signal = archived[i].Signal!;
            Assert.Equal((expected.JobId, expected.Seq, expected.EmittedAt, expected.EmittedAt.Offset, expected.Phase),
                (signal.JobId, signal.Seq, signal.EmittedAt, signal.EmittedAt.Offset, signal.Phase));
            Assert.Equal(expected.Metrics, signal.Metrics);
            Assert.Equal(expected.Labels, signal.Labels);
        }

        // A restarted archive resumes at its checkpoint: two more events complete the third block, nothing twice
        await AppendSignalsAsync(store.DataSource, "job-2", 3, 2);
        Assert.Equal(3, await new HistoryArchive(store.DataSource, NullLogger.Instance, blockSize: 3).CatchUpAsync(CancellationToken.None));
        log = await LogAsync(store.DataSource);
        Assert.Equal(log.Select(e => e.Position), (await BlocksAsync(store.DataSource, TailPosition.Start)).SelectMany(b => b.Events).Select(e => e.Event.Position));

        // Read from inside a block, only what follows comes back
        Assert.Equal(log.Skip(4).Select(e => e.Position), (await BlocksAsync(store.DataSource, log[3].Position)).SelectMany(b => b.Events).Select(e => e.Event.Position));
    }

    [Fact]
    public async Task A_damaged_block_in_the_store_ends_the_read_before_it_and_is_reported()
    {
        await using var store = await StoreAsync();
        await AppendSignalsAsync(store.DataSource, "job-1", 1, 6);
        Assert.Equal(6, await new HistoryArchive(store.DataSource, NullLogger.Instance, blockSize: 2).CatchUpAsync(CancellationToken.None));
        var log = await LogAsync(store.DataSource);
        await using (var damage = store.DataSource.CreateCommand(
            "update es.history_blocks set body = substring(body from 1 for length(body) - 3) where end_position = $1"))
        {
            damage.Parameters.Add(new NpgsqlParameter<long> { TypedValue = log[3].Position.GlobalPosition });
            Assert.Equal(1, await damage.ExecuteNonQueryAsync());
        }

        var logger = new RecordingLogger();
        var blocks = await HistoryArchive.ReadAsync(store.DataSource, LogPositions.Start(1), 100, logger, CancellationToken.None);

        // The first block only: a reader takes the second block's events, and all after them, from the log
        Assert.Equal([log[1].Position], blocks.Select(b => b.End));
        var (level, message) = Assert.Single(logger.Entries);
        Assert.Equal(LogLevel.Warning, level);
        Assert.Contains(log[3].Position.ToString(), message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_archiver_behind_another_is_refused_rather_than_storing_a_block_twice()
    {
        await using var store = await StoreAsync();
        await AppendSignalsAsync(store.DataSource, "job-1", 1, 1);
        var behind = new HistoryArchive(store.DataSource, NullLogger.Instance, blockSize: 2);
        Assert.Equal(0, await behind.CatchUpAsync(CancellationToken.None));
        await AppendSignalsAsync(store.DataSource, "job-1", 2, 1);
        Assert.Equal(2, await new HistoryArchive(store.DataSource, NullLogger.Instance, blockSize: 2).CatchUpAsync(CancellationToken.None));

        // `behind` holds the first event from before the other stored it; its block would repeat it
        await Assert.ThrowsAsync<CheckpointConflictException>(() => behind.CatchUpAsync(CancellationToken.None));

        Assert.Single(await BlocksAsync(store.DataSource, TailPosition.Start));
    }

    [Fact]
    public void A_block_comes_back_as_encoded_and_one_damaged_or_cut_short_is_not_read()
    {
        var signal = new SignalRecorded("job-1", 7, Start, "shadow", MetricValues.From(new Dictionary<string, double> { ["error_rate"] = 0.25 }),
            new Dictionary<string, string> { ["team"] = "orders" }, null);
        var block = new HistoryBlock(new TailPosition(12, 40), [
            new LogEvent(new RecordedEvent(39, 12, "job-1", 7, Guid.NewGuid(), SignalRecorded.EventType, "", "{}", 7, Start, Start), signal),
            EventDecoder.Decode(new RecordedEvent(40, 12, "policy:fleet", 2, Guid.NewGuid(), PolicyPublished.EventType, """{"name":"fleet"}""", "{}", null, Start, Start)),
        ]);
        var body = block.Encode();

        var decoded = HistoryBlock.Decode(block.End, body)!;

        Assert.Equal([39L, 40], decoded.Events.Select(e => e.Event.GlobalPosition));
        Assert.Equal([0.25], decoded.Events[0].Signal!.Metrics.Values);
        Assert.Equal(block.Events[1].Event.EventId, decoded.Events[1].Event.EventId);
        Assert.Null(HistoryBlock.Decode(block.End, body[..^2]));
        Assert.Null(HistoryBlock.Decode(new TailPosition(12, 41), body));
        Assert.Null(HistoryBlock.Decode(block.End, [2, .. body[1..]]));
    }
}
