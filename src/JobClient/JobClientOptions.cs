using Streaming.Contracts;

namespace Streaming.JobClient;

/// <summary>What a job tells the client library about itself and where Streaming runs.</summary>
public sealed class JobClientOptions
{
    /// <summary>The job's id: the key of its signals and of its phase changes.</summary>
    public required string JobId { get; init; }

    /// <summary>Kafka brokers (<c>host:port,…</c>) carrying <c>job-signals</c> and <c>job-phase-changes</c>.</summary>
    public required string KafkaBootstrapServers { get; init; }

    /// <summary>The phase the job runs in when Streaming has never moved it (the one it reports until told otherwise).</summary>
    public string InitialPhase { get; init; } = "shadow";

    /// <summary>Labels sent with every signal (policies select jobs by them).</summary>
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    /// <summary>Where the job hears of its phase changes after start-up: the RabbitMQ bus, the Kafka topic, or nowhere.</summary>
    public PhaseFeed PhaseFeed { get; init; } = PhaseFeed.Kafka;

    /// <summary>The bus for <see cref="PhaseFeed.RabbitMq"/>: <c>amqp://user:password@host:port/vhost</c>.</summary>
    public string? RabbitMqUrl { get; init; }

    /// <summary>The direct exchange the Promoter publishes phase changes to (<c>Bus:Exchange</c> there).</summary>
    public string RabbitMqExchange { get; init; } = Contracts.PhaseChanges.PhaseChangeBus.Exchange;

    /// <summary>The job's durable queue on the bus; by default derived from its id (<c>streaming.job.&lt;id&gt;</c>).</summary>
    public string? RabbitMqQueue { get; init; }

    /// <summary>A queue nobody consumed from for this long is deleted by RabbitMQ (a retired job's queue); its phase is read from Kafka at start-up anyway.</summary>
    public TimeSpan RabbitMqQueueExpiry { get; init; } = TimeSpan.FromDays(14);

    public string SignalsTopic { get; init; } = Topics.Signals;

    public string PhaseChangesTopic { get; init; } = Topics.PhaseChanges;

    /// <summary>
    /// A folder where the client keeps the job's highest <c>seq</c>, so it keeps increasing across restarts even if the
    /// clock steps back. Without it, <c>seq</c> is derived from the clock alone (microseconds since 1970).
    /// </summary>
    public string? StateDirectory { get; init; }

    /// <summary>Signals waiting to be sent at most; when more are reported the oldest waiting one is dropped (and counted).</summary>
    public int MaxPendingSignals { get; init; } = 10_000;

    /// <summary>How many waiting signals are handed to the producer at once.</summary>
    public int MaxBatchSize { get; init; } = 500;

    /// <summary>How long the producer waits to fill a batch (librdkafka's <c>linger.ms</c>).</summary>
    public TimeSpan Linger { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>How long disposing waits for waiting signals to be delivered.</summary>
    public TimeSpan FlushTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Further librdkafka properties for both clients (e.g. <c>security.protocol</c>, <c>sasl.*</c>).</summary>
    public IReadOnlyDictionary<string, string> KafkaClient { get; init; } = new Dictionary<string, string>();
}
