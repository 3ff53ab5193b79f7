using System.Text;
using Npgsql;
using Streaming.Contracts.Signals;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Tests.EventStore;
using static Streaming.Ingest.Appending.SignalAppendOutcome;

namespace Streaming.Tests.Ingest;

public sealed class SignalLogTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    readonly SignalLog _signals = new(database.DataSource);
    readonly EventStreams _streams = new(database.DataSource);
    readonly string _group = "group-" + Guid.NewGuid().ToString("N");

    [Fact]
    public async Task A_batch_is_appended_with_versions_one_to_n_per_stream()
    {
        var a = SampleEvents.NewStreamId("job-a");
        var b = SampleEvents.NewStreamId("job-b");
        SignalToAppend[] batch = [SampleEvents.Signal(a, 1), SampleEvents.Signal(b, 7), SampleEvents.Signal(a, 2), SampleEvents.Signal(a, 3), SampleEvents.Signal(b, 8)];

        var result = await _signals.AppendSignalsAsync(batch, [], CancellationToken.None);

        Assert.Equal([Appended, Appended, Appended, Appended, Appended], result.Outcomes);
        Assert.Equal([1L, 1L, 2L, 3L, 2L], result.Versions);
        var stored = await _streams.ReadStreamForwardAsync(a, 1, 10, CancellationToken.None);
        Assert.Equal([1L, 2L, 3L], stored.Select(e => e.Seq!.Value));
        Assert.Equal(batch.Where(s => s.StreamId == a).Select(s => s.EventId), stored.Select(e => e.EventId));
        Assert.Equal(batch[0].EventTime, stored[0].EventTime);
        Assert.Equal(Encoding.UTF8.GetString(batch[0].Data.Span), stored[0].Data);
    }

    [Theory]
    [InlineData(40)]
    [InlineData(400)]
    public async Task A_batch_is_stored_in_order_whether_inserted_with_the_commit_or_copied(int perStream)
    {
        // Two streams interleaved: 80 new signals are inserted with the commit, 800 copied (more than 100).
        var a = SampleEvents.NewStreamId("job-a");
        var b = SampleEvents.NewStreamId("job-b");
        SignalToAppend[] batch = [.. Enumerable.Range(1, perStream).SelectMany(seq => new[] { SampleEvents.Signal(a, seq), SampleEvents.Signal(b, seq) })];

        var result = await _signals.AppendSignalsAsync(batch, [], CancellationToken.None);

        Assert.All(result.Outcomes, o => Assert.Equal(Appended, o));
        foreach (var stream in new[] { a, b })
        {
            var stored = await _streams.ReadStreamForwardAsync(stream, 1, perStream + 1, CancellationToken.None);
            var sent = batch.Where(s => s.StreamId == stream).ToList();
            Assert.Equal(Enumerable.Range(1, perStream).Select(v => (long)v), stored.Select(e => e.Version));
            Assert.Equal(sent.Select(s => s.EventId), stored.Select(e => e.EventId));
            Assert.Equal(sent.Select(s => Encoding.UTF8.GetString(s.Data.Span)), stored.Select(e => e.Data));
            Assert.Equal(sent.Select(s => s.EventTime), stored.Select(e => e.EventTime));
        }
        // The log holds them in the batch's order, as the tail reads them.
        await using var command = database.DataSource.CreateCommand(
            "select event_id from es.events where stream_id = any($1) order by global_position");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [a, b] });
        var order = new List<Guid>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                order.Add(reader.GetGuid(0));
            }
        }
        Assert.Equal(batch.Select(s => s.EventId), order);
    }

    [Fact]
    public async Task The_same_batch_again_is_all_duplicates_and_stores_nothing_new()
    {
        var a = SampleEvents.NewStreamId("job");
        SignalToAppend[] batch = [SampleEvents.Signal(a, 1), SampleEvents.Signal(a, 2), SampleEvents.Signal(a, 3)];
        await _signals.AppendSignalsAsync(batch, [], CancellationToken.None);

        var again = await _signals.AppendSignalsAsync(batch, [], CancellationToken.None);

        Assert.Equal([Duplicate, Duplicate, Duplicate], again.Outcomes);
        Assert.Equal([0L, 0L, 0L], again.Versions);
        Assert.Equal(3, (await _streams.ReadStreamForwardAsync(a, 1, 10, CancellationToken.None)).Count);
        Assert.Equal(3, await _streams.ReadVersionAsync(a, CancellationToken.None));
    }

    [Fact]
    public async Task A_seq_repeated_within_one_batch_is_stored_once()
    {
        var a = SampleEvents.NewStreamId("job");
        SignalToAppend[] batch = [SampleEvents.Signal(a, 1), SampleEvents.Signal(a, 2), SampleEvents.Signal(a, 2), SampleEvents.Signal(a, 3), SampleEvents.Signal(a, 1)];

        var result = await _signals.AppendSignalsAsync(batch, [], CancellationToken.None);

        Assert.Equal([Appended, Appended, Duplicate, Appended, Duplicate], result.Outcomes);
        Assert.Equal([1L, 2L, 0L, 3L, 0L], result.Versions);
        var stored = await _streams.ReadStreamForwardAsync(a, 1, 10, CancellationToken.None);
        Assert.Equal([1L, 2L, 3L], stored.Select(e => e.Seq!.Value));
        Assert.Equal([batch[0].EventId, batch[1].EventId, batch[3].EventId], stored.Select(e => e.EventId));
    }

    [Fact]
    public async Task A_lower_seq_that_was_never_stored_is_stale_and_a_stored_one_is_a_duplicate()
    {
        var a = SampleEvents.NewStreamId("job");
        await _signals.AppendSignalsAsync([SampleEvents.Signal(a, 1), SampleEvents.Signal(a, 2), SampleEvents.Signal(a, 5)], [], CancellationToken.None);

        var result = await _signals.AppendSignalsAsync(
            [SampleEvents.Signal(a, 3), SampleEvents.Signal(a, 5), SampleEvents.Signal(a, 9), SampleEvents.Signal(a, 7), SampleEvents.Signal(a, 10)],
            [],
            CancellationToken.None);

        Assert.Equal([Stale, Duplicate, Appended, Stale, Appended], result.Outcomes);
        Assert.Equal([0L, 0L, 4L, 0L, 5L], result.Versions);
        var stored = await _streams.ReadStreamForwardAsync(a, 1, 10, CancellationToken.None);
        Assert.Equal([1L, 2L, 5L, 9L, 10L], stored.Select(e => e.Seq!.Value));
        Assert.Equal([1L, 2L, 3L, 4L, 5L], stored.Select(e => e.Version));
    }

    // Issue 13: a repeated seq with different content was dropped as a duplicate.
    [Fact]
    public async Task A_repeated_seq_with_different_content_is_conflicting_whether_stored_before_or_earlier_in_the_batch()
    {
        var a = SampleEvents.NewStreamId("job");
        await _signals.AppendSignalsAsync([SampleEvents.Signal(a, 1, """{"seq":1,"m":1}""")], [], CancellationToken.None);

        var result = await _signals.AppendSignalsAsync(
            [
                SampleEvents.Signal(a, 1, """{"seq":1,"m":2}"""),
                SampleEvents.Signal(a, 2, """{"seq":2,"m":1}"""),
                SampleEvents.Signal(a, 2, """{"seq":2,"m":3}"""),
            ],
            [],
            CancellationToken.None);

        Assert.Equal([Conflicting, Appended, Conflicting], result.Outcomes);
        var stored = await _streams.ReadStreamForwardAsync(a, 1, 10, CancellationToken.None);
        Assert.Equal(["""{"seq":1,"m":1}""", """{"seq":2,"m":1}"""], stored.Select(e => e.Data));
    }

    [Fact]
    public async Task A_repeat_of_the_same_JSON_value_written_differently_is_a_duplicate()
    {
        var a = SampleEvents.NewStreamId("job");
        await _signals.AppendSignalsAsync([SampleEvents.Signal(a, 1, """{"seq":1,"m":1.0,"l":"x"}""")], [], CancellationToken.None);

        var result = await _signals.AppendSignalsAsync(
            [SampleEvents.Signal(a, 1, """{ "l": "\u0078", "m": 1, "seq": 1 }""")], [], CancellationToken.None);

        Assert.Equal([Duplicate], result.Outcomes);
    }

    [Fact]
    public async Task Signals_continue_a_stream_that_has_other_events()
    {
        var a = SampleEvents.NewStreamId("job");
        await _streams.AppendToStreamAsync(a, ExpectedVersion.NoStream, SampleEvents.Events(2), CancellationToken.None);

        var result = await _signals.AppendSignalsAsync([SampleEvents.Signal(a, 1), SampleEvents.Signal(a, 2)], [], CancellationToken.None);
        var next = await _streams.AppendToStreamAsync(a, 4, SampleEvents.Events(1), CancellationToken.None);

        Assert.Equal([3L, 4L], result.Versions);
        Assert.Equal(5, next);
    }

    [Fact]
    public async Task Offsets_are_stored_with_the_signals_and_advance_by_compare_and_set()
    {
        var a = SampleEvents.NewStreamId("job");

        await _signals.AppendSignalsAsync(
            [SampleEvents.Signal(a, 1)],
            [new KafkaOffsetAdvance(_group, "job-signals", 0, null, 11), new KafkaOffsetAdvance(_group, "job-signals", 3, null, 4)],
            CancellationToken.None);
        await _signals.AppendSignalsAsync(
            [SampleEvents.Signal(a, 2)], [new KafkaOffsetAdvance(_group, "job-signals", 0, 11, 12)], CancellationToken.None);

        var offsets = await _signals.LoadKafkaOffsetsAsync(_group, "job-signals", CancellationToken.None);
        Assert.Equal(new Dictionary<int, long> { [0] = 12, [3] = 4 }, offsets);
        Assert.Empty(await _signals.LoadKafkaOffsetsAsync(_group, "other-topic", CancellationToken.None));
    }

    [Fact]
    public async Task A_batch_of_only_offsets_moves_them()
    {
        await _signals.AppendSignalsAsync([], [new KafkaOffsetAdvance(_group, "job-signals", 1, null, 5)], CancellationToken.None);

        Assert.Equal(5, (await _signals.LoadKafkaOffsetsAsync(_group, "job-signals", CancellationToken.None))[1]);
    }

    [Fact]
    public async Task A_stale_expected_offset_fences_the_batch_and_nothing_of_it_is_stored()
    {
        var a = SampleEvents.NewStreamId("job");
        var b = SampleEvents.NewStreamId("job");
        await _signals.AppendSignalsAsync(
            [SampleEvents.Signal(a, 1)],
            [new KafkaOffsetAdvance(_group, "job-signals", 0, null, 10), new KafkaOffsetAdvance(_group, "job-signals", 1, null, 20)],
            CancellationToken.None);

        var fenced = await Assert.ThrowsAsync<OffsetFencedException>(() => _signals.AppendSignalsAsync(
            [SampleEvents.Signal(a, 2), SampleEvents.Signal(b, 1)],
            [new KafkaOffsetAdvance(_group, "job-signals", 0, 10, 12), new KafkaOffsetAdvance(_group, "job-signals", 1, 15, 22)],
            CancellationToken.None));

        Assert.Equal((1, 15L, 20L), (fenced.Partition, fenced.ExpectedNextOffset!.Value, fenced.ActualNextOffset!.Value));
        Assert.Single(await _streams.ReadStreamForwardAsync(a, 1, 10, CancellationToken.None));
        Assert.Empty(await _streams.ReadStreamForwardAsync(b, 1, 10, CancellationToken.None));
        Assert.Equal(1, await _streams.ReadVersionAsync(a, CancellationToken.None));
        Assert.Equal(0, await _streams.ReadVersionAsync(b, CancellationToken.None));
        Assert.Equal(new Dictionary<int, long> { [0] = 10, [1] = 20 }, await _signals.LoadKafkaOffsetsAsync(_group, "job-signals", CancellationToken.None));
    }

    [Fact]
    public async Task Expecting_no_stored_offset_where_one_exists_is_fenced()
    {
        var a = SampleEvents.NewStreamId("job");
        await _signals.AppendSignalsAsync([], [new KafkaOffsetAdvance(_group, "job-signals", 2, null, 7)], CancellationToken.None);

        var fenced = await Assert.ThrowsAsync<OffsetFencedException>(() => _signals.AppendSignalsAsync(
            [SampleEvents.Signal(a, 1)], [new KafkaOffsetAdvance(_group, "job-signals", 2, null, 9)], CancellationToken.None));

        Assert.Null(fenced.ExpectedNextOffset);
        Assert.Equal(7, fenced.ActualNextOffset);
        Assert.Empty(await _streams.ReadStreamForwardAsync(a, 1, 10, CancellationToken.None));
    }

    [Fact]
    public async Task A_fenced_batch_in_the_callers_transaction_rolls_that_transaction_back()
    {
        var a = SampleEvents.NewStreamId("job");
        await _signals.AppendSignalsAsync([], [new KafkaOffsetAdvance(_group, "job-signals", 4, null, 3)], CancellationToken.None);
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();

        await Assert.ThrowsAsync<OffsetFencedException>(() => _signals.AppendSignalsAsync(
            transaction, [SampleEvents.Signal(a, 1)], [new KafkaOffsetAdvance(_group, "job-signals", 4, 1, 9)], CancellationToken.None));

        await Assert.ThrowsAsync<InvalidOperationException>(() => transaction.CommitAsync());
        Assert.Empty(await _streams.ReadStreamForwardAsync(a, 1, 10, CancellationToken.None));
    }

    [Fact]
    public async Task Two_consumers_racing_from_the_same_offset_store_the_batch_once()
    {
        var a = SampleEvents.NewStreamId("job");
        await _signals.AppendSignalsAsync([], [new KafkaOffsetAdvance(_group, "job-signals", 5, null, 100)], CancellationToken.None);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(async () =>
        {
            try
            {
                await _signals.AppendSignalsAsync(
                    [SampleEvents.Signal(a, 1), SampleEvents.Signal(a, 2)], [new KafkaOffsetAdvance(_group, "job-signals", 5, 100, 102)], CancellationToken.None);
                return true;
            }
            catch (OffsetFencedException)
            {
                return false;
            }
        })));

        Assert.Single(attempts, won => won);
        Assert.Equal(2, (await _streams.ReadStreamForwardAsync(a, 1, 10, CancellationToken.None)).Count);
        Assert.Equal(102, (await _signals.LoadKafkaOffsetsAsync(_group, "job-signals", CancellationToken.None))[5]);
    }

    [Fact]
    public async Task A_signal_whose_event_id_is_not_derived_from_its_stream_and_seq_is_refused_before_anything_is_written()
    {
        var a = SampleEvents.NewStreamId("job");
        var signal = SampleEvents.Signal(a, 1);
        await _signals.AppendSignalsAsync([signal], [], CancellationToken.None);

        await Assert.ThrowsAsync<ArgumentException>(() =>
            _signals.AppendSignalsAsync([SampleEvents.Signal(a, 2) with { EventId = signal.EventId }], [], CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() =>
            _signals.AppendSignalsAsync([SampleEvents.Signal(a, 3) with { EventId = Guid.NewGuid() }], [], CancellationToken.None));

        Assert.Single(await _streams.ReadStreamForwardAsync(a, 1, 10, CancellationToken.None));
    }

    [Fact]
    public async Task A_repeated_seq_is_found_behind_later_events_of_its_stream()
    {
        var a = SampleEvents.NewStreamId("job");
        await _signals.AppendSignalsAsync([SampleEvents.Signal(a, 1), SampleEvents.Signal(a, 2), SampleEvents.Signal(a, 4)], [], CancellationToken.None);
        await _streams.AppendToStreamAsync(a, ExpectedVersion.Any, SampleEvents.Events(2), CancellationToken.None);
        await _signals.AppendSignalsAsync([SampleEvents.Signal(a, 5)], [], CancellationToken.None);

        var result = await _signals.AppendSignalsAsync(
            [SampleEvents.Signal(a, 2), SampleEvents.Signal(a, 4, """{"seq":4,"other":true}"""), SampleEvents.Signal(a, 3), SampleEvents.Signal(a, 1)],
            [],
            CancellationToken.None);

        Assert.Equal([Duplicate, Conflicting, Stale, Duplicate], result.Outcomes);
        Assert.Equal(6, await _streams.ReadVersionAsync(a, CancellationToken.None));
    }

    [Fact]
    public async Task A_signal_stored_as_sent_and_its_repeat_with_an_unknown_field_are_one_signal()
    {
        var job = SampleEvents.NewStreamId("job");
        var value = Encoding.UTF8.GetBytes($$$"""{"schema":"job-signal/v1","jobId":"{{{job}}}","emittedAt":"2026-11-22T10:00:00Z","seq":1,"phase":"shadow","metrics":{"error_rate":0.5},"labels":{}}""");
        var withMore = Encoding.UTF8.GetBytes($$$"""{"schema":"job-signal/v1","jobId":"{{{job}}}","emittedAt":"2026-11-22T10:00:00Z","seq":1.0,"phase":"shadow","metrics":{"error_rate":0.5},"labels":{},"x":1}""");
        var stored = SignalToAppend.Of(JobSignalReader.Read(Encoding.UTF8.GetBytes(job), value), value);
        var repeat = SignalToAppend.Of(JobSignalReader.Read(Encoding.UTF8.GetBytes(job), withMore), withMore);
        var other = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(withMore).Replace("0.5", "0.6", StringComparison.Ordinal));
        var changed = SignalToAppend.Of(JobSignalReader.Read(Encoding.UTF8.GetBytes(job), other), other);
        await _signals.AppendSignalsAsync([stored], [], CancellationToken.None);

        var result = await _signals.AppendSignalsAsync([repeat, changed], [], CancellationToken.None);

        Assert.Equal([Duplicate, Conflicting], result.Outcomes);
        Assert.Equal(Encoding.UTF8.GetString(value), (await _streams.ReadStreamForwardAsync(job, 1, 10, CancellationToken.None)).Single().Data);
    }
}
