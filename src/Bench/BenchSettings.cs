namespace Streaming.Bench;

/// <summary>The bench command's flags.</summary>
public sealed record BenchSettings(
    string ConnectionString,
    string EmbeddedDll,
    string? MartenDll,
    string OutputFile,
    int Runs,
    int LimitMessages,
    int NaiveMessages,
    int PipelineMessages,
    int MartenMessages,
    bool Large,
    bool Marten,
    bool MartenAggregate,
    bool SurfaceOnly)
{
    public static BenchSettings Parse(string[] args)
    {
        var flags = new BenchFlags(args, "no-marten", "no-marten-aggregate", "no-100k");
        flags.RefuseUnknown("postgres", "embedded", "marten", "output", "runs", "limit-messages", "naive-messages", "pipeline-messages", "marten-messages", "surface-only");
        var marten = !flags.Has("no-marten");
        return new BenchSettings(
            flags.Required("postgres"),
            flags.Required("embedded"),
            marten ? flags.Required("marten") : flags.Text("marten"),
            flags.Text("output", "artifacts/bench/bench.json"),
            flags.Number("runs", 1, least: 1),
            flags.Number("limit-messages", 500_000, least: 1),
            flags.Number("naive-messages", 20_000, least: 1),
            flags.Number("pipeline-messages", 1_000_000, least: 1),
            flags.Number("marten-messages", 300_000, least: 1),
            !flags.Has("no-100k"),
            marten,
            marten && !flags.Has("no-marten-aggregate"),
            flags.Text("surface-only") == "true");
    }
}
