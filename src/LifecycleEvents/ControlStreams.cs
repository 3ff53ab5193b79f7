using Streaming.Contracts.History;

namespace Streaming.LifecycleEvents;

/// <summary>
/// The streams that are not jobs: policies, shadow policies and what they would decide, known issues and circuit
/// breakers. Their ids start with a reserved prefix (<see cref="ControlStreamPrefixes"/>), which Ingest refuses in job ids.
/// </summary>
public static class ControlStreams
{
    public static bool IsControl(string streamId) => ControlStreamPrefixes.Of(streamId) is not null;
}
