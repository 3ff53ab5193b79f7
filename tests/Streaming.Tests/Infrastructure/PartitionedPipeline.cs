namespace Streaming.Tests.Infrastructure;

/// <summary>
/// The real system, as <see cref="Infrastructure.Pipeline"/>, over a store created with <see cref="Partitions"/> log
/// partitions (<c>Store:LogPartitions</c>), as many as <c>job-signals</c> has: one instance of each service reads them all.
/// </summary>
public sealed class PartitionedPipeline : IAsyncLifetime
{
    public const int Partitions = 4;

    public Pipeline Pipeline { get; } = new(new Dictionary<string, string?> { ["Store:LogPartitions"] = $"{Partitions}" });

    public Task InitializeAsync() => Pipeline.InitializeAsync();

    public Task DisposeAsync() => Pipeline.DisposeAsync();
}
