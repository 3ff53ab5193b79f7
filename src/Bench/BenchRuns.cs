using Spectre.Console;

namespace Streaming.Bench;

/// <summary>All runs of one <c>bench</c> invocation (<c>--runs N</c>), each reported in full, and a summary row per run.</summary>
public sealed record BenchRuns(string Machine, string Command, TimeSpan Elapsed, IReadOnlyList<BenchReport> Runs)
{
    public bool Valid => Runs.All(r => r.Valid);

    public void PrintSummary()
    {
        var table = new Table().AddColumns("run", "10k jobs/s", "100k jobs/s", "100k/10k", "peak RSS MiB", "vs min(drain, COPY as filed)", "vs min(drain, COPY now)",
            "rebuild/s", "Marten appends/s", "Marten end to end/s", "ours / Marten", "Marten rebuild/s", "rebuild / Marten", "CPU µs/signal ours (Marten)", "minutes");
        foreach (var r in Runs)
        {
            var marten = r.Marten;
            table.AddRow(
                $"{r.Run}",
                $"{r.Jobs10k.PerSecond:N0}",
                r.Jobs100k is { } large ? $"{large.PerSecond:N0}" : "",
                r.Jobs100k is { } l ? $"{l.PerSecond / r.Jobs10k.PerSecond:0.00}" : "",
                $"{r.PeakRssBytes / 1048576:N0}",
                $"{r.Jobs10k.PerSecond / r.LimitAsFiled:0.00}",
                $"{r.Jobs10k.PerSecond / r.Limit:0.00}",
                $"{r.Rebuild.PerSecond:N0}",
                marten is null ? "" : $"{marten.Appends.AppendsPerSecond:N0}",
                marten is null ? "" : $"{marten.EndToEnd.PerSecond:N0}",
                marten is null ? "" : $"{r.Jobs10k.PerSecond / marten.EndToEnd.PerSecond:0.0}",
                marten is null ? "" : $"{marten.Rebuild.PerSecond:N0}",
                marten is null ? "" : $"{r.Rebuild.PerSecond / marten.Rebuild.PerSecond:0.0}",
                $"{r.Jobs10k.Cpu.MicrosecondsPerSignal:N0}{(marten is null ? "" : $" ({marten.EndToEnd.Cpu.MicrosecondsPerSignal:N0})")}",
                $"{r.Elapsed.TotalMinutes:0.0}");
        }
        AnsiConsole.MarkupLine($"[bold]{Runs.Count} runs[/] in {Elapsed.TotalMinutes:0.0} minutes on {Markup.Escape(Machine)}");
        AnsiConsole.Write(table);
    }
}
