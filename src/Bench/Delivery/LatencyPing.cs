namespace Streaming.Bench.Delivery;

/// <summary>A bare message sent through RabbitMQ and back, for the raw round-trip limit.</summary>
public sealed record LatencyPing(Guid Id);
