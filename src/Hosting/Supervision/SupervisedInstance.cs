namespace Streaming.Hosting.Supervision;

/// <summary>How the supervisor tells each copy of a procfile line which one it is (1, 2, ...), the same across its restarts.</summary>
public static class SupervisedInstance
{
    public const string Variable = "STREAMING_INSTANCE";

    /// <summary>
    /// A group member id for this copy of <paramref name="role"/>'s line, the same across its restarts: the host name, the
    /// role and the index. Null when no supervisor gave an index.
    /// </summary>
    public static string? MemberId(string role) =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } index ? $"{Environment.MachineName}-{role}-{index}" : null;
}
