using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Ingest;

/// <summary>PostgreSQL stopped for real (<c>pg_ctl stop -m fast</c>) under a standalone Ingest while signals flow.</summary>
public sealed class StoreOutageTests(ITestOutputHelper output)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);
    static readonly TimeSpan OutageLength = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Ingest_waits_out_a_PostgreSQL_restart_while_signals_flow_and_stores_every_signal_exactly_once()
    {
        await using var postgres = new PrivatePostgres();
        await postgres.StartAsync();
        await using var ingest = new StandaloneIngest(postgres.ConnectionString, partitions: 4, settings: new Dictionary<string, string?> { ["Ingest:Consumers"] = "2" });
        await ingest.StartAsync();
        await using var store = NpgsqlDataSource.Create(postgres.ConnectionString);

        // Given 40 jobs each sending a signal every round, before, during and after the outage (a job's on one partition)
        var jobs = Enumerable.Range(1, 40).Select(i => $"outage-{i}").ToList();
        using var stopProducing = new CancellationTokenSource();
        var producing = Task.Run(async () =>
        {
            var round = 0;
            for (; !stopProducing.IsCancellationRequested; round++)
            {
                for (var partition = 0; partition < 4; partition++)
                {
                    ingest.Produce(jobs.Where((_, i) => i % 4 == partition).Select(job => IngestProbe.Signals(job, round + 1, 1).Single()), partition);
                }
                await Task.Delay(TimeSpan.FromMilliseconds(50), CancellationToken.None);
            }
            return round;
        });
        await Eventually.Get(() => CountAsync(store), n => n >= 200, Timeout, "signals stored before the outage");

        // When PostgreSQL stops for 10 s and starts again
        await postgres.StopAsync();
        await Eventually.True(() => Task.FromResult(!ingest.Health.IsReady), Timeout, "Ingest to report itself not ready");
        await Task.Delay(OutageLength);
        await postgres.StartAsync();
        await Eventually.True(() => Task.FromResult(ingest.Health.IsReady), Timeout, "Ingest to be ready again");
        await stopProducing.CancelAsync();
        var rounds = await producing;

        // Then every signal is stored exactly once, Ingest never stopped, and it said so once when the outage began and once when it ended
        var expected = rounds * jobs.Count;
        try
        {
            await Eventually.Get(() => CountAsync(store), n => n >= expected, Timeout, $"all {expected} signals");
        }
        catch (TimeoutException)
        {
            foreach (var (level, message) in ingest.Logs.Entries)
            {
                output.WriteLine($"{level}: {message}");
            }
            throw;
        }
        await using (var command = store.CreateCommand("select count(*), count(distinct (stream_id, seq)) from es.events where stream_id like 'outage-%'"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            Assert.Equal((expected, expected), (reader.GetInt64(0), reader.GetInt64(1)));
        }
        Assert.False(ingest.Run.IsCompleted, "the ingest worker stopped");
        var began = ingest.Logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains(": outage began", StringComparison.Ordinal)).ToList();
        var ended = ingest.Logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains(": outage ended", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(began);
        Assert.Equal(began.Count, ended.Count);
        Assert.Equal(began.Count, began.Select(e => e.Message[..e.Message.IndexOf(':', StringComparison.Ordinal)]).Distinct().Count());
        Assert.Equal(0, ingest.Counters.Duplicates);
    }

    static async Task<long> CountAsync(NpgsqlDataSource store)
    {
        try
        {
            await using var command = store.CreateCommand("select count(*) from es.events where stream_id like 'outage-%'");
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (NpgsqlException)
        {
            return 0;
        }
    }
}
