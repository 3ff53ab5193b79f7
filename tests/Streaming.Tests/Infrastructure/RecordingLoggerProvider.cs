using Microsoft.Extensions.Logging;

namespace Streaming.Tests.Infrastructure;

/// <summary>Hands every category the same <see cref="RecordingLogger"/>, to read what a hosted service logged.</summary>
public sealed class RecordingLoggerProvider : ILoggerProvider
{
    public RecordingLogger Logger { get; } = new();

    public ILogger CreateLogger(string categoryName) => Logger;

    public void Dispose()
    {
    }
}
