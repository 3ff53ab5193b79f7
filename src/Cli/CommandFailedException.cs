namespace Streaming.Cli;

/// <summary>A command could not do what it was asked; its message is printed and the tool exits with <see cref="ExitCode"/>.</summary>
public sealed class CommandFailedException(string message, int exitCode = 1) : Exception(message)
{
    public int ExitCode => exitCode;
}
