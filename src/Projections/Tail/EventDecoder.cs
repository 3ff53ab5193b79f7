using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>
/// Turns stored events into <see cref="LogEvent"/>s, decoding each body once by its type. A body that cannot be read
/// becomes an <see cref="UndecodableBody"/> with the reason, never an exception: the folds that need it record it as
/// poisoned and go on. Not thread-safe (it shares strings between the signals it reads): one per reading thread.
/// </summary>
public sealed class EventDecoder
{
    [ThreadStatic]
    static EventDecoder? _perThread;

    readonly SignalDecoder _signals = new();

    /// <summary>Decodes <paramref name="recorded"/> from its <see cref="RecordedEvent.Data"/>, on this thread's decoder.</summary>
    public static LogEvent Decode(RecordedEvent recorded) =>
        (_perThread ??= new EventDecoder()).Decode(recorded, Encoding.UTF8.GetBytes(recorded.Data));

    /// <summary>
    /// Decodes an event whose body is <paramref name="utf8"/>. A signal keeps no body text; any other event carries its
    /// text in <see cref="RecordedEvent.Data"/>, as stored.
    /// </summary>
    public LogEvent Decode(RecordedEvent envelope, ReadOnlySpan<byte> utf8)
    {
        if (envelope.Type == SignalRecorded.EventType)
        {
            try
            {
                return new LogEvent(envelope.Data.Length == 0 ? envelope : envelope with { Data = "" }, _signals.Decode(utf8, envelope.StreamId));
            }
            catch (InvalidDataException e)
            {
                return new LogEvent(WithText(envelope, utf8), new UndecodableBody(e.Message));
            }
        }
        return new LogEvent(WithText(envelope, utf8), envelope.Type switch
        {
            PhaseChanged.EventType => Read(utf8, ContractsJson.Default.PhaseChanged),
            PolicyPublished.EventType => Read(utf8, ContractsJson.Default.PolicyPublished),
            OverrideSet.EventType => Read(utf8, ContractsJson.Default.OverrideSet),
            OverrideEnded.EventType => Read(utf8, ContractsJson.Default.OverrideEnded),
            PromotionDeferred.EventType => Read(utf8, ContractsJson.Default.PromotionDeferred),
            CircuitBreakerChanged.EventType => Read(utf8, ContractsJson.Default.CircuitBreakerChanged),
            CircuitBreakerResetRequested.EventType => Read(utf8, ContractsJson.Default.CircuitBreakerResetRequested),
            KnownIssueOpened.EventType => Read(utf8, ContractsJson.Default.KnownIssueOpened),
            KnownIssueResolved.EventType => Read(utf8, ContractsJson.Default.KnownIssueResolved),
            ShadowDecision.EventType => Read(utf8, ContractsJson.Default.ShadowDecision),
            ApprovalRequested.EventType => Read(utf8, ContractsJson.Default.ApprovalRequested),
            ApprovalGranted.EventType => Read(utf8, ContractsJson.Default.ApprovalGranted),
            ApprovalLapsed.EventType => Read(utf8, ContractsJson.Default.ApprovalLapsed),
            PromotionsPaused.EventType => Read(utf8, ContractsJson.Default.PromotionsPaused),
            PromotionsResumed.EventType => Read(utf8, ContractsJson.Default.PromotionsResumed),
            CircuitBreakerTripRequested.EventType => Read(utf8, ContractsJson.Default.CircuitBreakerTripRequested),
            JobSilenced.EventType => Read(utf8, ContractsJson.Default.JobSilenced),
            AdmissionRequested.EventType => Read(utf8, ContractsJson.Default.AdmissionRequested),
            AdmissionGranted.EventType => Read(utf8, ContractsJson.Default.AdmissionGranted),
            AdmissionReleased.EventType => Read(utf8, ContractsJson.Default.AdmissionReleased),
            BreakerCountReported.EventType => Read(utf8, ContractsJson.Default.BreakerCountReported),
            _ => null,
        });
    }

    /// <summary>An event read from the history archive: its signal already read, or its body as stored.</summary>
    public LogEvent FromArchive(RecordedEvent recorded, SignalRecorded? signal) =>
        signal is not null ? new LogEvent(recorded, signal) : Decode(recorded, Encoding.UTF8.GetBytes(recorded.Data));

    /// <summary>A stored body read as <typeparamref name="T"/>; null when it is not one, as a fold finds it unreadable.</summary>
    public static T? ReadBody<T>(string data, JsonTypeInfo<T> contract) where T : class => Read(Encoding.UTF8.GetBytes(data), contract) as T;

    static RecordedEvent WithText(RecordedEvent envelope, ReadOnlySpan<byte> utf8) =>
        envelope.Data.Length > 0 || utf8.IsEmpty ? envelope : envelope with { Data = Encoding.UTF8.GetString(utf8) };

    static object Read<T>(ReadOnlySpan<byte> utf8, JsonTypeInfo<T> contract) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize(utf8, contract) ?? (object)new UndecodableBody("the body is null");
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or ArgumentException or NotSupportedException)
        {
            return new UndecodableBody($"the body is not a {typeof(T).Name}: {e.Message}");
        }
    }
}
