namespace Streaming.Lifecycle;

/// <summary>
/// How many jobs a gate lets into its phase: at most <see cref="MaxInFlight"/> promoted and not yet soaked there, and at
/// most <see cref="MaxPerHour"/> promotions in any hour of event time (null: no cap).
/// </summary>
public sealed record WaveRule(int? MaxInFlight, int? MaxPerHour);
