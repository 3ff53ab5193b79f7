using System.Diagnostics;
using System.Globalization;
using Confluent.Kafka;
using Npgsql;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;

namespace Streaming.Bench.Latency;

/// <summary>
/// Measures a system's <see cref="TailLatency"/> once its run is over: it produces a signal of a new job and waits
/// for the job's projected row. A burned position is what a rolled-back append leaves in the log's sequence; a tail
/// that reads by sequence number cannot tell it from a transaction still to commit, and waits until it may skip it.
/// </summary>
/// <param name="burnSql">Takes the log's next position (run in a transaction that is rolled back).</param>
/// <param name="projectedSql">Counts the rows projected for the job id given as <c>$1</c>.</param>
public sealed class TailLatencyProbe(string bootstrapServers, string topic, NpgsqlDataSource dataSource, string burnSql, string projectedSql)
{
    const int Probes = 3;
    static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

    public async Task<TailLatency> MeasureAsync(string name, CancellationToken cancellationToken)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrapServers, LingerMs = 0 }).Build();
        var idle = new List<TimeSpan>();
        var burned = new List<TimeSpan>();
        for (var probe = 0; probe < Probes; probe++)
        {
            idle.Add(await OneAsync(producer, $"latency-probe-{name}-{probe}", burn: false, cancellationToken));
            burned.Add(await OneAsync(producer, $"latency-probe-{name}-{probe}-burned", burn: true, cancellationToken));
        }
        return new TailLatency(Median(idle), Median(burned));
    }

    async Task<TimeSpan> OneAsync(IProducer<string, byte[]> producer, string jobId, bool burn, CancellationToken cancellationToken)
    {
        if (burn)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var command = new NpgsqlCommand(burnSql, connection, transaction))
            {
                await command.ExecuteScalarAsync(cancellationToken);
            }
            await transaction.RollbackAsync(cancellationToken);
        }
        // An event time in the past, as the workload's: a signal far ahead of its message's timestamp may be refused.
        var signal = new JobSignal(JobSignal.SchemaV1, jobId, new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero), 1, "shadow",
            new Dictionary<string, double> { ["error_rate"] = 0 }, new Dictionary<string, string> { ["team"] = "bench" }, jobId);
        var clock = Stopwatch.StartNew();
        await producer.ProduceAsync(topic, new Message<string, byte[]> { Key = jobId, Value = ContractsJson.SerializeToUtf8(signal) }, cancellationToken);
        await using var projected = dataSource.CreateCommand(projectedSql);
        projected.Parameters.Add(new NpgsqlParameter<string> { TypedValue = jobId });
        while (Convert.ToInt64(await projected.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
        {
            if (clock.Elapsed > Patience)
            {
                throw new InvalidOperationException($"the signal of {jobId} was not projected within {Patience.TotalSeconds} s");
            }
            await Task.Delay(5, cancellationToken);
        }
        return clock.Elapsed;
    }

    static TimeSpan Median(List<TimeSpan> values) => values.Order().ElementAt(values.Count / 2);
}
