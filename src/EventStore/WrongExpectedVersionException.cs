namespace Streaming.EventStore;

/// <summary>An append expected a stream version the stream does not have; nothing was appended.</summary>
public sealed class WrongExpectedVersionException(string streamId, long expectedVersion, long actualVersion)
    : Exception($"Stream '{streamId}' is at version {actualVersion}, not the expected {expectedVersion}")
{
    public string StreamId { get; } = streamId;

    public long ExpectedVersion { get; } = expectedVersion;

    public long ActualVersion { get; } = actualVersion;
}
