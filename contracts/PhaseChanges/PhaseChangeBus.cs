using System.Security.Cryptography;
using System.Text;

namespace Streaming.Contracts.PhaseChanges;

/// <summary>
/// How phase changes travel on the RabbitMQ bus: one durable direct exchange, routing key = the job's id, and one
/// durable queue per job bound to it with that key, so a job's queue receives its own changes and nobody else's.
/// </summary>
public static class PhaseChangeBus
{
    public const string Exchange = "streaming.phase-changes";

    public const string ExchangeType = "direct";

    const int MaxRoutingKeyBytes = 255;
    const int MaxQueueNameLength = 200;

    /// <summary>The job id itself; an id longer than AMQP's 255-byte limit is routed by its SHA-256 instead.</summary>
    public static string RoutingKey(string jobId) =>
        Encoding.UTF8.GetByteCount(jobId) <= MaxRoutingKeyBytes ? jobId : "sha256:" + Hash(jobId);

    /// <summary>
    /// The default queue of a job: <c>streaming.job.</c> and its id; ids with characters a queue name may not hold
    /// (MassTransit accepts letters, digits, <c>-_.:</c>) or too long for one get them replaced and a hash appended,
    /// so two ids never share a queue.
    /// </summary>
    public static string QueueName(string jobId)
    {
        var name = new StringBuilder("streaming.job.", MaxQueueNameLength);
        var replaced = false;
        foreach (var c in jobId)
        {
            var allowed = char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':';
            name.Append(allowed ? c : '_');
            replaced |= !allowed;
        }
        if (!replaced && name.Length <= MaxQueueNameLength)
        {
            return name.ToString();
        }
        var suffix = "-" + Hash(jobId)[..16];
        name.Length = Math.Min(name.Length, MaxQueueNameLength - suffix.Length);
        return name.Append(suffix).ToString();
    }

    static string Hash(string jobId) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(jobId)));
}
