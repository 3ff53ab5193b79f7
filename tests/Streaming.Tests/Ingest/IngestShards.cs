using Npgsql;
using Streaming.Contracts.Signals;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ingest;

/// <summary>
/// A <see cref="TwoShardStore"/> left unmigrated for Ingest to migrate, and what the tests read back from each shard.
/// </summary>
sealed class IngestShards : IAsyncDisposable
{
    public const int Partitions = TwoShardStore.Partitions;

    readonly TwoShardStore _store = new();

    public PrivatePostgres Server(int shard) => _store.Server(shard);

    public NpgsqlDataSource Shard(int shard) => _store.Shard(shard);

    public Task StartAsync() => _store.StartAsync();

    /// <summary>Ingest's settings for these shards; shard 0's connection string is StandaloneIngest's own.</summary>
    public Dictionary<string, string?> IngestSettings(int consumers) => new()
    {
        ["Store:Shards"] = "2",
        ["Store:LogPartitions"] = Partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ConnectionStrings:EventStoreShard1"] = _store.Server(1).ConnectionString,
        ["Ingest:Consumers"] = consumers.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary><paramref name="perPartition"/> job ids with this prefix whose log partition (murmur2, as producers key them) is each partition.</summary>
    public static IReadOnlyList<(string Job, int Partition)> Jobs(string prefix, int perPartition) =>
        [.. Enumerable.Range(0, 10_000).Select(i => $"{prefix}-{i}")
            .Select(job => (Job: job, Partition: Murmur2Partitioner.Partition(job, Partitions)))
            .GroupBy(j => j.Partition).OrderBy(g => g.Key)
            .SelectMany(g => g.Take(perPartition))];

    /// <summary>How many events of streams with <paramref name="prefix"/> the shard holds; -1 while it cannot be reached.</summary>
    public async Task<long> CountAsync(int shard, string prefix)
    {
        try
        {
            await using var command = Shard(shard).CreateCommand("select count(*) from es.events where stream_id like $1 || '-%'");
            command.Parameters.AddWithValue(prefix);
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (NpgsqlException)
        {
            return -1;
        }
    }

    /// <summary>The shard's events of streams with <paramref name="prefix"/>: count, distinct (stream, seq), and the log partitions they are in ("0,2").</summary>
    public async Task<(long Events, long Distinct, string Partitions)> StoredAsync(int shard, string prefix)
    {
        await using var command = Shard(shard).CreateCommand("""
            select count(*), count(distinct (stream_id, seq)), coalesce(string_agg(distinct partition::text, ',' order by partition::text), '')
            from es.events where stream_id like $1 || '-%'
            """);
        command.Parameters.AddWithValue(prefix);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2));
    }

    /// <summary>The Kafka offsets stored on the shard, by partition.</summary>
    public async Task<IReadOnlyDictionary<int, long>> OffsetsAsync(int shard)
    {
        await using var command = Shard(shard).CreateCommand("select partition, next_offset from es.kafka_offsets");
        await using var reader = await command.ExecuteReaderAsync();
        var offsets = new Dictionary<int, long>();
        while (await reader.ReadAsync())
        {
            offsets[reader.GetInt32(0)] = reader.GetInt64(1);
        }
        return offsets;
    }

    public async ValueTask DisposeAsync() => await _store.DisposeAsync();
}
