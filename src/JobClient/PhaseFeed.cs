namespace Streaming.JobClient;

/// <summary>How a job follows its phase after reading it from the compacted topic at start-up.</summary>
public enum PhaseFeed
{
    /// <summary>Reads its own partition of <c>job-phase-changes</c> and keeps only its key.</summary>
    Kafka,

    /// <summary>Its own durable queue on the MassTransit bus, bound to the job's id.</summary>
    RabbitMq,

    /// <summary>Start-up only: the job re-reads its phase when it next starts.</summary>
    None,
}
