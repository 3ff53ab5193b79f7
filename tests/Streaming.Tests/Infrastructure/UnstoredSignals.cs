using System.Globalization;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Streaming.Contracts;
using Streaming.Ingest.Consuming;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// For a test that gave up waiting for a signal to be stored: where everything stands that could hold it back. Whether
/// the producer delivered it, each partition's log end against the offset Ingest stored for it, what Ingest's consumers
/// last said about themselves (<see cref="ConsumerStates"/>) and what the database's sessions are doing.
/// </summary>
public static class UnstoredSignals
{
    public static async Task<string> DescribeAsync(
        NpgsqlDataSource database, string bootstrapServers, int partitions, IServiceProvider? ingest, IProducer<string, byte[]>? producer = null)
    {
        var parts = new List<string>();
        if (producer is not null)
        {
            parts.Add($"{producer.Flush(TimeSpan.Zero)} produced signals not delivered yet");
        }
        parts.Add(await PartitionsAsync(database, bootstrapServers, partitions));
        parts.Add("Ingest: " + (ingest?.GetService<ConsumerStates>()?.ToString() ?? "not running"));
        parts.Add("database: " + await SessionsAsync(database));
        return string.Join("; ", parts);
    }

    static async Task<string> PartitionsAsync(NpgsqlDataSource database, string bootstrapServers, int count)
    {
        var stored = new Dictionary<int, long>();
        await using (var command = database.CreateCommand("select partition, next_offset from es.kafka_offsets"))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                stored[reader.GetInt32(0)] = reader.GetInt64(1);
            }
        }
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = bootstrapServers, GroupId = "probe" }).Build();
        var partitions = new List<string>();
        for (var partition = 0; partition < count; partition++)
        {
            string end;
            try
            {
                end = consumer.QueryWatermarkOffsets(new TopicPartition(Topics.Signals, partition), TimeSpan.FromSeconds(5)).High.Value.ToString(CultureInfo.InvariantCulture);
            }
            catch (KafkaException e)
            {
                end = $"unanswered ({e.Error.Reason})";
            }
            partitions.Add($"{partition}: log end {end}, stored {(stored.TryGetValue(partition, out var next) ? next.ToString(CultureInfo.InvariantCulture) : "none")}");
        }
        return $"{Topics.Signals} partitions {string.Join("; ", partitions)}";
    }

    // Every other session of this database that is not idle: what it runs or waits for, since when, and who blocks it.
    static async Task<string> SessionsAsync(NpgsqlDataSource database)
    {
        await using var command = database.CreateCommand(
            """
            select pid, coalesce(application_name, ''), state, coalesce(wait_event_type || '/' || wait_event, 'not waiting'),
                   extract(epoch from now() - xact_start)::int, pg_blocking_pids(pid)::text, left(regexp_replace(query, '\s+', ' ', 'g'), 160)
            from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and state is distinct from 'idle'
            order by xact_start nulls last
            """);
        var sessions = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var age = reader.IsDBNull(4) ? "no transaction" : $"in a transaction for {reader.GetInt32(4)} s";
            sessions.Add($"pid {reader.GetInt32(0)} '{reader.GetString(1)}' {reader.GetString(2)}, {reader.GetString(3)}, {age}, blocked by {reader.GetString(5)}: {reader.GetString(6)}");
        }
        return sessions.Count == 0 ? "every other session idle" : string.Join(" / ", sessions);
    }
}
