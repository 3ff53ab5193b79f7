namespace Streaming.Hosting.Supervision;

/// <summary>How the supervisor tells each copy of a procfile line which one it is (1, 2, ...), the same across its restarts.</summary>
public static class SupervisedInstance
{
    public const string Variable = "STREAMING_INSTANCE";
}
