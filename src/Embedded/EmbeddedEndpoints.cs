using System.Text.Json;

namespace Streaming.Embedded;

/// <summary>Where a running embedded system can be reached; written to the endpoints file for other tools.</summary>
public sealed record EmbeddedEndpoints(
    string KafkaBootstrapServers,
    string PostgresConnectionString,
    string SignalsTopic,
    string SignalsDeadLetterTopic,
    string PhaseChangesTopic,
    string? HttpUrl,
    string? TokensFile)
{
    public static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
}
