using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;

namespace Streaming.Promoter.Fleet;

/// <summary>Records operators' pauses and resumptions of promotions (a gate, a policy, the fleet), and breakers tripped by hand.</summary>
public sealed class PauseWriter(EventStreams streams, TimeProvider clock)
{
    public async Task<PromotionsPaused> PauseAsync(string? policy, string? phase, string actor, string reason, TimeSpan? lasting, CancellationToken cancellationToken)
    {
        var paused = new PromotionsPaused(Guid.NewGuid(), policy, phase, actor, reason, lasting, clock.GetUtcNow());
        await AppendAsync(PromotionsPaused.StreamFor(policy, phase), paused.PauseId, PromotionsPaused.EventType, ContractsJson.Serialize(paused), paused.At, cancellationToken);
        return paused;
    }

    public async Task<PromotionsResumed> ResumeAsync(string? policy, string? phase, string actor, string reason, CancellationToken cancellationToken)
    {
        var resumed = new PromotionsResumed(null, policy, phase, actor, reason, clock.GetUtcNow());
        await AppendAsync(PromotionsPaused.StreamFor(policy, phase), Guid.NewGuid(), PromotionsResumed.EventType, ContractsJson.Serialize(resumed), resumed.At, cancellationToken);
        return resumed;
    }

    public async Task<CircuitBreakerTripRequested> TripBreakerAsync(string policy, string phase, string actor, string reason, CancellationToken cancellationToken)
    {
        var trip = new CircuitBreakerTripRequested(policy, phase, actor, reason, clock.GetUtcNow());
        await AppendAsync(CircuitBreakerChanged.StreamFor(policy, phase), Guid.NewGuid(), CircuitBreakerTripRequested.EventType, ContractsJson.Serialize(trip), trip.At,
            cancellationToken);
        return trip;
    }

    Task<long> AppendAsync(string stream, Guid eventId, string type, string data, DateTimeOffset at, CancellationToken cancellationToken) =>
        streams.AppendToStreamAsync(stream, ExpectedVersion.Any,
            [new EventToAppend(eventId, type, data, ContractsJson.Serialize(new EventMetadata(null, null)), at)], cancellationToken);
}
