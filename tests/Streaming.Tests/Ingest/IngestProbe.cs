using Streaming.Contracts;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Ingest.Appending;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ingest;

/// <summary>What the Ingest tests produce and read back: a job's signals as messages, the stored offset, the stored events.</summary>
static class IngestProbe
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    public static IEnumerable<(string, byte[])> Signals(string job, int fromSeq, int count) =>
        SignalFactory.Minutes(job, fromSeq - 1, count, "shadow", SignalFactory.Good).Select(s => (s.JobId, ContractsJson.SerializeToUtf8(s)));

    public static async Task<MigratedDatabase> MigratedAsync()
    {
        var database = new MigratedDatabase();
        await database.InitializeAsync();
        return database;
    }

    public static Task<long> StoredOffsetAsync(MigratedDatabase database, long expected) =>
        Eventually.Get(
            async () => (await new SignalLog(database.DataSource).LoadKafkaOffsetsAsync("streaming-ingest", Topics.Signals, CancellationToken.None))
                .GetValueOrDefault(0),
            offset => offset == expected, Timeout, $"the stored offset of partition 0 to reach {expected}");

    /// <summary>The next offset stored for <paramref name="partition"/>; 0 when none is.</summary>
    public static async Task<long> StoredAsync(MigratedDatabase database, int partition) =>
        (await new SignalLog(database.DataSource).LoadKafkaOffsetsAsync("streaming-ingest", Topics.Signals, CancellationToken.None)).GetValueOrDefault(partition);

    /// <summary>The seqs of <paramref name="job"/>'s stored events, in stream order.</summary>
    public static async Task<List<long>> SeqsAsync(MigratedDatabase database, string job)
    {
        await using var command = database.DataSource.CreateCommand("select seq from es.events where stream_id = $1 order by version");
        command.Parameters.AddWithValue(job);
        var seqs = new List<long>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            seqs.Add(reader.GetInt64(0));
        }
        return seqs;
    }

    public static async Task<long> EventCountAsync(MigratedDatabase database, string job)
    {
        await using var command = database.DataSource.CreateCommand("select count(*) from es.events where stream_id = $1");
        command.Parameters.AddWithValue(job);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
