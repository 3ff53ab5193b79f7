namespace Streaming.Tests.Faults;

/// <summary>Tests that start processes by the hundred, and so signal this process as often: alone, after the others.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessStartsCollection
{
    public const string Name = "process starts";
}
