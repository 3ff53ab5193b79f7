using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts.Signals;
using Streaming.JobClient.Phases;
using Streaming.JobClient.Signals;

namespace Streaming.JobClient;

/// <summary>
/// A job's connection to Streaming: <see cref="Report"/> sends its metrics as signals reporting the phase it runs in,
/// and the phase Streaming assigns it reaches the callback given to <see cref="StartAsync"/>. The job acknowledges a
/// change by returning from the callback: its next signal reports the new phase.
/// </summary>
public sealed class StreamingJob : IAsyncDisposable
{
    readonly JobClientOptions _options;
    readonly TimeProvider _clock;
    readonly PhaseTracker _phase;
    readonly SequenceNumbers _seq;
    readonly SignalSender _sender;
    KafkaPhaseFeed? _kafkaFeed;
    BusPhaseFeed? _busFeed;

    StreamingJob(JobClientOptions options, PhaseTracker phase, TimeProvider clock, ILogger logger)
    {
        _options = options;
        _clock = clock;
        _phase = phase;
        _seq = new SequenceNumbers(options.JobId, options.StateDirectory, clock);
        _sender = new SignalSender(options, logger);
    }

    public string JobId => _options.JobId;

    /// <summary>The phase the job runs in and reports: the last one it switched to.</summary>
    public string Phase => _phase.ReportedPhase;

    /// <summary>The phase Streaming assigned last (differs from <see cref="Phase"/> only while, or because, switching failed).</summary>
    public string AssignedPhase => _phase.AssignedPhase;

    public long SignalsSent => _sender.Sent;

    /// <summary>Signals sent again after a failed delivery (a broker outage shows here first).</summary>
    public long SignalsRetried => _sender.Retried;

    /// <summary>Signals dropped because the queue was full or the broker refused them for good.</summary>
    public long SignalsDropped => _sender.Dropped;

    /// <summary>
    /// Connects the job: subscribes to its phase changes (the bus queue first, so nothing published meanwhile is
    /// missed), reads its current phase from the compacted topic and hands a change to <paramref name="onPhaseChanged"/>
    /// before returning, so the job starts in the phase it was assigned.
    /// </summary>
    /// <param name="clock">The clock of <c>emittedAt</c> (event time) and of <c>seq</c>; the system clock by default.</param>
    public static async Task<StreamingJob> StartAsync(
        JobClientOptions options,
        Func<PhaseAssignment, CancellationToken, Task>? onPhaseChanged = null,
        ILoggerFactory? loggerFactory = null,
        TimeProvider? clock = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        loggerFactory ??= NullLoggerFactory.Instance;
        var logger = loggerFactory.CreateLogger<StreamingJob>();
        var tracker = new PhaseTracker(options.JobId, options.InitialPhase, onPhaseChanged, logger);
        var client = new StreamingJob(options, tracker, clock ?? TimeProvider.System, logger);
        try
        {
            // The signal contract applies to the job's id and initial phase too: a client that would only be dead-lettered never starts.
            client.Build(new Dictionary<string, double>(), null, seq: 0);
            if (options.PhaseFeed == PhaseFeed.RabbitMq)
            {
                client._busFeed = new BusPhaseFeed(options, tracker, loggerFactory);
                await client._busFeed.StartAsync(cancellationToken);
            }
            client._kafkaFeed = new KafkaPhaseFeed(options, tracker, logger);
            var topicExists = await client._kafkaFeed.ReadCurrentAsync(cancellationToken);
            if (options.PhaseFeed == PhaseFeed.Kafka && topicExists)
            {
                client._kafkaFeed.StartFollowing();
            }
            else
            {
                client._kafkaFeed.Dispose();
                client._kafkaFeed = null;
            }
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Sends a signal with these metrics, reporting the job's current phase, stamped now. Returns at once: the signal is
    /// checked here (a <see cref="SignalRejectedException"/> says what Streaming would reject) and sent in the background.
    /// </summary>
    public void Report(IReadOnlyDictionary<string, double> metrics, string? correlationId = null) =>
        _sender.Enqueue(Build(metrics, correlationId, _seq.Next()));

    Message<string, byte[]> Build(IReadOnlyDictionary<string, double> metrics, string? correlationId, long seq)
    {
        var signal = new JobSignal(
            JobSignal.SchemaV1, _options.JobId, _clock.GetUtcNow(), seq, _phase.ReportedPhase, metrics, _options.Labels, correlationId);
        if (SignalValidation.Problem(signal, DateTimeOffset.UtcNow, out var value) is { } problem)
        {
            throw new SignalRejectedException(problem);
        }
        return new Message<string, byte[]> { Key = _options.JobId, Value = value };
    }

    /// <summary>Stops following, and sends what is queued (waiting at most the flush timeout).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_busFeed is not null)
        {
            await _busFeed.DisposeAsync();
        }
        _kafkaFeed?.Dispose();
        await _sender.DisposeAsync();
    }
}
