namespace Streaming.Bench;

/// <summary>A command line the bench cannot read: said in one line on stderr with exit code 2, not as a stack trace.</summary>
public sealed class BenchUsageException(string message) : Exception(message);
