namespace Streaming.Cli.Commands;

/// <summary>What <c>streaming backtest</c> was asked for.</summary>
public sealed record BacktestOptions(
    FileInfo Candidate, IReadOnlyList<string> Jobs, IReadOnlyList<string> Labels, bool PerJob, string? CsvPath, string? CachePath, bool UseArchive,
    bool WithoutPauses = false);
