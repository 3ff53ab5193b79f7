namespace Streaming.Supervisor;

/// <summary>
/// One process to supervise: its name, its command, whether the processes after it wait for its announcement, and its
/// index among the copies of one procfile line (given to it as <c>STREAMING_INSTANCE</c>, stable across restarts).
/// </summary>
public sealed record ProcfileEntry(string Name, string Command, bool Ready, int Instance = 1);
