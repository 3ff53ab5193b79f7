using Npgsql;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Sharding;

/// <summary>A Promoter process serving one shard of a <see cref="TwoShardStore"/> without a group, and what a shard holds of a stream.</summary>
internal static class ShardPromoter
{
    /// <summary>
    /// Starts it over the broker at <paramref name="bootstrapServers"/>, logging warnings and the partitions its tail
    /// follows, with <paramref name="settings"/> besides.
    /// </summary>
    public static ServiceProcess Start(TwoShardStore store, string bootstrapServers, int shard, IReadOnlyDictionary<string, string>? settings = null) =>
        ServiceProcess.Start("Promoter", new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
        {
            ["ConnectionStrings__EventStore"] = store.Server(0).ConnectionString,
            ["ConnectionStrings__EventStoreShard1"] = store.Server(1).ConnectionString,
            ["Store__Shards"] = "2",
            ["Store__Shard"] = $"{shard}",
            ["Store__LogPartitions"] = $"{PartitionedDatabase.Partitions}",
            ["Kafka__BootstrapServers"] = bootstrapServers,
            ["Kafka__CreateTopics"] = "false",
            ["Kafka__Partitions"] = $"{PartitionedDatabase.Partitions}",
            ["Serilog__MinimumLevel__Default"] = "Warning",
            ["Serilog__MinimumLevel__Override__Streaming.Projections.Tail"] = "Information",
        });

    /// <summary>The ids of <paramref name="stream"/>'s events in <paramref name="shard"/> (of <paramref name="type"/> alone when given), in version order.</summary>
    public static async Task<List<Guid>> EventIdsAsync(NpgsqlDataSource shard, string stream, string? type)
    {
        await using var command = shard.CreateCommand("select event_id from es.events where stream_id = $1 and ($2::text is null or type = $2) order by version");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stream });
        command.Parameters.Add(new NpgsqlParameter<string?> { TypedValue = type, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        var ids = new List<Guid>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }
        return ids;
    }
}
