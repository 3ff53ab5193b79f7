using Streaming.JobClient;

namespace Streaming.SampleJob;

/// <summary>The sample job's settings (section <c>SampleJob</c>; flags <c>--job-id</c>, <c>--feed</c>, <c>--speed</c>, <c>--profile</c>).</summary>
public sealed class SampleJobOptions
{
    public const string Section = "SampleJob";

    public string JobId { get; set; } = "sample-orders-1";

    public PhaseFeed Feed { get; set; } = PhaseFeed.RabbitMq;

    public MigrationProfile Profile { get; set; } = MigrationProfile.Healthy;

    /// <summary>Real time between two signals.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How much faster than real time the job's event time runs (600: a signal interval of 100 ms is a simulated minute).</summary>
    public double Speed { get; set; } = 1;

    /// <summary>Where the job's event time starts; default now. With <see cref="Speed"/> above 1 start it in the past: Streaming refuses signals more than a day ahead.</summary>
    public DateTimeOffset? Start { get; set; }

    /// <summary>Where the job keeps its <c>seq</c> and how far its event time got, across restarts; empty: both start afresh (seq from the clock).</summary>
    public string? StateDirectory { get; set; }
}
