namespace Streaming.Lifecycle;

/// <summary>The names verdicts have in reasons and stored events.</summary>
public static class Verdicts
{
    public static string Name(Verdict verdict) => verdict switch
    {
        Verdict.Pass => "pass",
        Verdict.Fail => "fail",
        Verdict.NoData => "no-data",
        Verdict.Ignored => "ignored",
        _ => throw new InvalidOperationException($"unknown verdict {verdict}"),
    };

    /// <summary>The verdict a stored name stands for; events written before verdicts had names carry only pass or fail.</summary>
    public static Verdict Parse(string? name, bool passed) => name switch
    {
        "pass" => Verdict.Pass,
        "fail" => Verdict.Fail,
        "no-data" => Verdict.NoData,
        "ignored" => Verdict.Ignored,
        _ => passed ? Verdict.Pass : Verdict.Fail,
    };
}
