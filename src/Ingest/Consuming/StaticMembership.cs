using Streaming.Hosting.Supervision;

namespace Streaming.Ingest.Consuming;

/// <summary>Each consumer's <c>group.instance.id</c> (Kafka's static membership), from <see cref="IngestOptions.InstanceId"/> or the supervisor's index.</summary>
static class StaticMembership
{
    /// <summary>Consumer <paramref name="consumer"/>'s instance id; null for a dynamic member (no id configured or given).</summary>
    public static string? InstanceId(IngestOptions options, int consumer)
    {
        var process = options.InstanceId is { Length: > 0 } configured ? configured : SupervisedInstance.MemberId("ingest");
        return process is null ? null : $"{process}-{consumer}";
    }
}
