namespace Streaming.Bench.Processes;

/// <summary>The runtime settings <c>./run.sh</c> starts the services with, so that the bench measures them as they run.</summary>
public static class ServiceRuntime
{
    /// <summary>The tiered-compilation call count <c>./run.sh</c> exports: the variable's name.</summary>
    public const string TierUpVariable = "DOTNET_TC_CallCountThreshold";

    /// <summary>How long an idle thread-pool thread spins before it sleeps; <c>./run.sh</c> exports 0: the variable's name.</summary>
    public const string PoolSpinVariable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    /// <summary>Each variable with its value: the bench's own environment's, as an explicit setting wins under <c>./run.sh</c>, else run.sh's default.</summary>
    public static IReadOnlyDictionary<string, string> Environment { get; } = new Dictionary<string, string>
    {
        [TierUpVariable] = System.Environment.GetEnvironmentVariable(TierUpVariable) ?? "2000",
        [PoolSpinVariable] = System.Environment.GetEnvironmentVariable(PoolSpinVariable) ?? "0",
    };
}
