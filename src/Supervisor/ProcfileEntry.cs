namespace Streaming.Supervisor;

/// <summary>One process to supervise: its name, its command, and whether the processes after it wait for its announcement.</summary>
public sealed record ProcfileEntry(string Name, string Command, bool Ready);
