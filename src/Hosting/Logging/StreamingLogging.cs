using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Formatting.Json;

namespace Streaming.Hosting.Logging;

/// <summary>Serilog for every process: readable lines by default, JSON with <c>Logging:Format=json</c>; levels from the <c>Serilog</c> section.</summary>
public static class StreamingLogging
{
    const string TextTemplate = "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    public static Serilog.ILogger CreateLogger(IConfiguration configuration)
    {
        var logger = new LoggerConfiguration()
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
            .ReadFrom.Configuration(configuration)
            .Enrich.FromLogContext();
        return string.Equals(configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase)
            ? logger.WriteTo.Console(new JsonFormatter(renderMessage: true)).CreateLogger()
            : logger.WriteTo.Console(outputTemplate: TextTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture).CreateLogger();
    }

    /// <summary>
    /// For command-line tools, whose standard output is their result: warnings and errors only, to standard error.
    /// </summary>
    public static ILoggerFactory ForCommandLine() =>
        LoggerFactory.Create(logging => logging.AddSerilog(
            new LoggerConfiguration()
                .MinimumLevel.Warning()
                .WriteTo.Console(
                    outputTemplate: TextTemplate,
                    formatProvider: System.Globalization.CultureInfo.InvariantCulture,
                    standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose)
                .CreateLogger(),
            dispose: true));

    public static ILoggingBuilder AddStreamingLogging(this ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.ClearProviders();
        return logging.AddSerilog(CreateLogger(configuration), dispose: true);
    }
}
