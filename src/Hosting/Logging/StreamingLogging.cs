using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Formatting.Compact;

namespace Streaming.Hosting.Logging;

/// <summary>
/// Serilog for every process: readable lines by default, compact JSON (CLEF) with <c>Logging:Format=json</c>; levels and
/// overrides from the <c>Serilog</c> section.
/// </summary>
public static class StreamingLogging
{
    const string TextTemplate = "[{Timestamp:HH:mm:ss.fff} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    public static LoggerConfiguration Configure(LoggerConfiguration logger, IConfiguration configuration)
    {
        logger
            .MinimumLevel.Information()
            .MinimumLevel.Override("Microsoft", Serilog.Events.LogEventLevel.Warning)
            .ReadFrom.Configuration(configuration)
            .Enrich.FromLogContext();
        return string.Equals(configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase)
            ? logger.WriteTo.Console(new RenderedCompactJsonFormatter())
            : logger.WriteTo.Console(outputTemplate: TextTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// For command-line tools, whose standard output is their result: warnings and errors only (or from
    /// <paramref name="minimum"/>, e.g. Information for audit lines), to standard error.
    /// </summary>
    public static ILoggerFactory ForCommandLine(Serilog.Events.LogEventLevel minimum = Serilog.Events.LogEventLevel.Warning) =>
        LoggerFactory.Create(logging => logging.AddSerilog(
            new LoggerConfiguration()
                .MinimumLevel.Is(minimum)
                .WriteTo.Console(
                    outputTemplate: TextTemplate,
                    formatProvider: System.Globalization.CultureInfo.InvariantCulture,
                    standardErrorFromLevel: Serilog.Events.LogEventLevel.Verbose)
                .CreateLogger(),
            dispose: true));

    /// <summary>Serilog as the host's only logger, through Serilog.Extensions.Hosting.</summary>
    public static IServiceCollection AddStreamingLogging(this IServiceCollection services, IConfiguration configuration) =>
        services.AddSerilog((_, logger) => Configure(logger, configuration));
}
