using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Streaming.Contracts.History;
using Streaming.Contracts.PhaseChanges;
using Streaming.Contracts.Signals;

namespace Streaming.Contracts.Json;

/// <summary>The one JSON shape of every contract: camelCase names, nulls left out.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JobSignal))]
[JsonSerializable(typeof(PhaseChangedMessage))]
[JsonSerializable(typeof(SignalRecorded))]
[JsonSerializable(typeof(PhaseChanged))]
[JsonSerializable(typeof(PolicyPublished))]
[JsonSerializable(typeof(OverrideSet))]
[JsonSerializable(typeof(OverrideEnded))]
[JsonSerializable(typeof(PromotionDeferred))]
[JsonSerializable(typeof(CircuitBreakerChanged))]
[JsonSerializable(typeof(CircuitBreakerResetRequested))]
[JsonSerializable(typeof(KnownIssueOpened))]
[JsonSerializable(typeof(KnownIssueResolved))]
[JsonSerializable(typeof(ShadowDecision))]
[JsonSerializable(typeof(ApprovalRequested))]
[JsonSerializable(typeof(ApprovalGranted))]
[JsonSerializable(typeof(ApprovalLapsed))]
[JsonSerializable(typeof(PromotionsPaused))]
[JsonSerializable(typeof(PromotionsResumed))]
[JsonSerializable(typeof(CircuitBreakerTripRequested))]
[JsonSerializable(typeof(JobSilenced))]
[JsonSerializable(typeof(AdmissionRequested))]
[JsonSerializable(typeof(AdmissionGranted))]
[JsonSerializable(typeof(AdmissionReleased))]
[JsonSerializable(typeof(BreakerCountReported))]
[JsonSerializable(typeof(EventMetadata))]
public sealed partial class ContractsJson : JsonSerializerContext
{
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, TypeInfo<T>.Value);

    public static byte[] SerializeToUtf8<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, TypeInfo<T>.Value);

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize(json, TypeInfo<T>.Value) ?? throw new JsonException($"null {typeof(T).Name}");

    // Looked up once per type instead of on every call.
    static class TypeInfo<T>
    {
        public static readonly JsonTypeInfo<T> Value = (JsonTypeInfo<T>)(Default.GetTypeInfo(typeof(T))
            ?? throw new InvalidOperationException($"{typeof(T).Name} is not a contract"));
    }
}
