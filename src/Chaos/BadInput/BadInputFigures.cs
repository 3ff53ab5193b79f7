namespace Streaming.Chaos.BadInput;

/// <summary>
/// The bad-input run: every kind tried, what became of it, how Ingest fared (exits, log lines forged or unbounded), and
/// the signals stored that neither a good message nor any case's streams account for.
/// </summary>
public sealed record BadInputFigures(
    IReadOnlyList<BadInputOutcome> Outcomes,
    int IngestExits,
    int ForgedLogLines,
    int LongestLogLine,
    bool IngestCaughtUp,
    int UnexpectedSignals,
    TimeSpan Duration)
{
    public const int MaxLogLine = 4_000;

    public int KindsTried => Outcomes.Count;

    public int KindsPassed => Outcomes.Count(o => o.Passed);

    public IReadOnlyList<string> Failures()
    {
        var failures = Outcomes.Where(o => !o.Passed).Select(o => $"{o.Kind}: {o.Verdict}").ToList();
        if (IngestExits > 0)
        {
            failures.Add($"Ingest exited {IngestExits} times");
        }
        if (!IngestCaughtUp)
        {
            failures.Add("Ingest never read past every message (stuck behind one)");
        }
        if (UnexpectedSignals > 0)
        {
            failures.Add($"{UnexpectedSignals} signals stored that no good message sent");
        }
        if (ForgedLogLines > 0)
        {
            failures.Add($"{ForgedLogLines} log lines forged by a newline in untrusted input");
        }
        if (LongestLogLine > MaxLogLine)
        {
            failures.Add($"a log line of {LongestLogLine:N0} characters (untrusted input not cut short)");
        }
        return failures;
    }
}
