using System.Collections.Concurrent;
using MassTransit;
using Streaming.Contracts.PhaseChanges;
using Streaming.JobClient.Phases;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// Jobs listening on the MassTransit bus the way a .NET job does: each job its own durable queue bound to its id, an
/// ordinary <see cref="IConsumer{T}"/> recording what that job's queue delivered, in order.
/// </summary>
public sealed class BusObserver : IAsyncDisposable
{
    readonly IBusControl _bus;

    BusObserver(IBusControl bus) => _bus = bus;

    /// <summary>(the job whose queue delivered it, the message), in the order consumed.</summary>
    public ConcurrentQueue<(string Queue, PhaseChangedMessage Change)> Received { get; } = new();

    /// <param name="queuePrefix">Keeps this test's queues apart from other tests' (queues outlive the bus).</param>
    public static async Task<BusObserver> StartAsync(Uri url, string exchange, string queuePrefix, IEnumerable<string> jobs)
    {
        BusObserver? observer = null;
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(url, "streaming-tests", _ => { });
            foreach (var job in jobs)
            {
                cfg.ReceiveEndpoint(queuePrefix + PhaseChangeBus.QueueName(job), e =>
                {
                    e.ReceivePhaseChangesOf(job, exchange);
                    e.Consumer(() => new RecordingConsumer(job, observer!.Received));
                });
            }
        });
        observer = new BusObserver(bus);
        var handle = await bus.StartAsync();
        await handle.Ready.WaitAsync(TimeSpan.FromSeconds(30));
        return observer;
    }

    public List<PhaseChangedMessage> For(string job) => [.. Received.Where(r => r.Queue == job).Select(r => r.Change)];

    public ValueTask DisposeAsync() => new(_bus.StopAsync(TimeSpan.FromSeconds(10)));

    sealed class RecordingConsumer(string job, ConcurrentQueue<(string, PhaseChangedMessage)> received) : IConsumer<PhaseChangedMessage>
    {
        public Task Consume(ConsumeContext<PhaseChangedMessage> context)
        {
            received.Enqueue((job, context.Message));
            return Task.CompletedTask;
        }
    }
}
