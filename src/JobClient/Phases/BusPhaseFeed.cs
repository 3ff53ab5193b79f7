using MassTransit;
using Microsoft.Extensions.Logging;
using Streaming.Contracts.PhaseChanges;

namespace Streaming.JobClient.Phases;

/// <summary>The job's own durable queue on the MassTransit bus (RabbitMQ), bound to its id, feeding its phase.</summary>
sealed class BusPhaseFeed(JobClientOptions options, PhaseTracker tracker, ILoggerFactory loggerFactory) : IAsyncDisposable
{
    IBusControl? _bus;

    /// <summary>Starts the bus and returns once the job's queue is declared and bound, so no change published from now on is missed.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var url = new Uri(options.RabbitMqUrl ?? throw new ArgumentException("RabbitMqUrl is required when PhaseFeed is RabbitMq"));
        LogContext.ConfigureCurrentLogContext(loggerFactory);
        _bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(url, $"streaming-job-{options.JobId}", _ => { });
            cfg.ReceiveEndpoint(options.RabbitMqQueue ?? PhaseChangeBus.QueueName(options.JobId), endpoint =>
            {
                endpoint.ReceivePhaseChangesOf(options.JobId, options.RabbitMqExchange, options.RabbitMqQueueExpiry);
                endpoint.UseMessageRetry(retry => retry.Exponential(5, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(100)));
                endpoint.Consumer(() => new PhaseChangeConsumer(tracker));
            });
        });
        var handle = await _bus.StartAsync(cancellationToken);
        await handle.Ready.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.StopAsync(TimeSpan.FromSeconds(10));
        }
    }

    sealed class PhaseChangeConsumer(PhaseTracker tracker) : IConsumer<PhaseChangedMessage>
    {
        public Task Consume(ConsumeContext<PhaseChangedMessage> context) =>
            tracker.ApplyAsync(context.Message, atStartup: false, context.CancellationToken);
    }
}
