using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streaming.Contracts;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Ingest;

/// <summary>Rebalances for real: a second Ingest process joins the consumer group, leaves it and joins again mid-stream.</summary>
public sealed class RebalanceTests(ITestOutputHelper output)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    const int Partitions = 6;

    [Fact]
    public async Task Ingest_processes_joining_and_leaving_the_group_mid_stream_store_every_signal_once_and_in_order()
    {
        await using var database = await IngestProbe.MigratedAsync();
        var settings = new Dictionary<string, string?> { ["Ingest:Consumers"] = "2" };
        await using var first = new StandaloneIngest(database.ConnectionString, Partitions, settings);
        await using var second = new StandaloneIngest(database.ConnectionString, settings: settings, cluster: first.Kafka);
        await first.StartAsync();

        // 30 jobs, each on its own partition as a keyed producer would put it, one signal per job a round
        var jobs = Enumerable.Range(1, 30).Select(i => $"rebalance-{i}").ToList();
        const int rounds = 60;
        for (var round = 0; round < rounds; round++)
        {
            for (var partition = 0; partition < Partitions; partition++)
            {
                first.Produce(jobs.Where((_, i) => i % Partitions == partition).Select(job => IngestProbe.Signals(job, round + 1, 1).Single()), partition);
            }
            switch (round)
            {
                case 15 or 45:
                    await second.StartAsync();
                    await Eventually.True(() => Task.FromResult(Reading(second)), Timeout, "the second process to read partitions of its own");
                    break;
                case 30:
                    await second.StopAsync();
                    break;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(20));
        }

        // Every signal stored once; none dead-lettered as out of order (a partition read again from an older offset would)
        var expected = rounds * jobs.Count;
        try
        {
            await Eventually.Get(() => CountAsync(database, "count(*)"), n => n >= expected, Timeout, $"all {expected} signals");
        }
        catch (TimeoutException)
        {
            await WriteWhatIsMissingAsync(database, first, second, rounds);
            throw;
        }
        Assert.Equal(expected, await CountAsync(database, "count(distinct (stream_id, seq))"));
        Assert.Equal(expected, await CountAsync(database, "count(*)"));
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = first.Kafka.BootstrapServers, GroupId = "probe" }).Build();
        Assert.Equal(0, consumer.QueryWatermarkOffsets(new TopicPartition(Topics.SignalsDeadLetter, 0), TimeSpan.FromSeconds(10)).High.Value);
    }

    // What the next failure needs: which partitions stopped where, the signals missing, and what each process logged.
    async Task WriteWhatIsMissingAsync(EventStore.MigratedDatabase database, StandaloneIngest first, StandaloneIngest second, int rounds)
    {
        await using (var offsets = database.DataSource.CreateCommand("select string_agg(partition || '@' || next_offset, ' ' order by partition) from es.kafka_offsets"))
        {
            output.WriteLine($"stored offsets: {await offsets.ExecuteScalarAsync()} (each partition was produced {rounds * 5} signals)");
        }
        await using (var missing = database.DataSource.CreateCommand(
            $"""
            select string_agg(j.job || '#' || r.seq, ' ' order by j.job, r.seq)
              from (select 'rebalance-' || i as job from generate_series(1, 30) i) j cross join generate_series(1, {rounds}) r(seq)
             where not exists (select from es.events e where e.stream_id = j.job and e.seq = r.seq)
            """))
        {
            output.WriteLine($"missing: {await missing.ExecuteScalarAsync()}");
        }
        foreach (var (name, ingest) in new[] { ("first", first), ("second (its last run)", second) })
        {
            output.WriteLine($"--- {name} ---");
            foreach (var (level, message) in ingest.Logs.Entries.Where(e => e.Level >= LogLevel.Information))
            {
                output.WriteLine($"{level}: {message}");
            }
        }
    }

    static bool Reading(StandaloneIngest ingest) =>
        ingest.Logs.Entries.Any(e => e.Message.StartsWith("Reading job-signals from partition@offset", StringComparison.Ordinal));

    static async Task<long> CountAsync(EventStore.MigratedDatabase database, string aggregate)
    {
        await using var command = database.DataSource.CreateCommand($"select {aggregate} from es.events where stream_id like 'rebalance-%'");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
