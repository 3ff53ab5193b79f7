using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using MassTransit;
using Streaming.Contracts;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.JobClient.Phases;

namespace Streaming.Bench.Delivery;

/// <summary>
/// The probe jobs' subscribers, as a job has them: each job's own queue on the bus (bound to its id, an ordinary
/// consumer), and a Kafka consumer of <c>job-phase-changes</c> read from its end. Each records when a job's first phase
/// change arrived.
/// </summary>
public sealed class PhaseChangeListeners : IAsyncDisposable
{
    readonly IConsumer<string, byte[]> _kafka;
    readonly IBusControl _bus;
    readonly CancellationTokenSource _stopping = new();
    readonly Task _consuming;

    PhaseChangeListeners(IConsumer<string, byte[]> kafka, IBusControl bus)
    {
        _kafka = kafka;
        _bus = bus;
        _consuming = Task.Factory.StartNew(Consume, TaskCreationOptions.LongRunning);
    }

    public ConcurrentDictionary<string, DateTimeOffset> OnKafka { get; } = new();

    public ConcurrentDictionary<string, DateTimeOffset> OnBus { get; } = new();

    public static async Task<PhaseChangeListeners> StartAsync(
        string bootstrapServers, int partitions, int fetchWaitMs, Uri rabbitMq, IEnumerable<string> jobs, CancellationToken cancellationToken)
    {
        var kafka = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrapServers,
            GroupId = "bench-phase-listener",
            EnableAutoCommit = false,
            FetchWaitMaxMs = fetchWaitMs,
        }).Build();
        kafka.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(Topics.PhaseChanges, p, Offset.End)));
        PhaseChangeListeners? listeners = null;
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(rabbitMq, "streaming-bench-jobs", _ => { });
            foreach (var job in jobs)
            {
                cfg.ReceiveEndpoint("bench." + PhaseChangeBus.QueueName(job), e =>
                {
                    e.ReceivePhaseChangesOf(job, queueExpiry: TimeSpan.FromMinutes(30));
                    e.Consumer(() => new Recorder(c => listeners!.OnBus.TryAdd(c.JobId, DateTimeOffset.UtcNow)));
                });
            }
        });
        var handle = await bus.StartAsync(cancellationToken);
        await handle.Ready.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
        listeners = new PhaseChangeListeners(kafka, bus);
        return listeners;
    }

    void Consume()
    {
        while (!_stopping.IsCancellationRequested)
        {
            try
            {
                if (_kafka.Consume(_stopping.Token) is { Message.Value: { } value })
                {
                    var received = DateTimeOffset.UtcNow;
                    OnKafka.TryAdd(ContractsJson.Deserialize<PhaseChangedMessage>(Encoding.UTF8.GetString(value)).JobId, received);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _consuming;
        _kafka.Close();
        _kafka.Dispose();
        await _bus.StopAsync(TimeSpan.FromSeconds(10));
        _stopping.Dispose();
    }

    sealed class Recorder(Action<PhaseChangedMessage> record) : IConsumer<PhaseChangedMessage>
    {
        public Task Consume(ConsumeContext<PhaseChangedMessage> context)
        {
            record(context.Message);
            return Task.CompletedTask;
        }
    }
}
