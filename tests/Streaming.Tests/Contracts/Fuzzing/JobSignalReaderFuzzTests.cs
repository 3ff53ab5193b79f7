using System.Diagnostics;
using System.Globalization;
using System.Text;
using Streaming.Contracts.Signals;
using Streaming.Contracts.Text;
using Xunit.Abstractions;

namespace Streaming.Tests.Contracts.Fuzzing;

/// <summary>
/// Property test of <see cref="JobSignalReader"/> over generated and mutated messages: it never throws, it accepts
/// exactly what <see cref="SignalContractOracle"/> (the contract written a second time) accepts and reads the same
/// signal, and its reasons are bounded and safe to print. Seeded: <c>STREAMING_FUZZ_SEED</c> picks another run,
/// <c>STREAMING_FUZZ_CASE</c> replays one case (printed on failure), <c>STREAMING_FUZZ_CASES</c> sets how many.
/// </summary>
public sealed class JobSignalReaderFuzzTests(ITestOutputHelper output)
{
    const long DefaultSeed = 20261127;
    const int DefaultCases = 40_000;
    static readonly TimeSpan Skew = TimeSpan.FromHours(24);

    [Fact]
    public void The_reader_never_throws_and_accepts_exactly_what_the_contract_accepts()
    {
        var seed = Setting("STREAMING_FUZZ_SEED") ?? DefaultSeed;
        var cases = Setting("STREAMING_FUZZ_CASES") ?? DefaultCases;
        var caseSeeds = Setting("STREAMING_FUZZ_CASE") is { } one ? [one] : Enumerable.Range(0, (int)cases).Select(i => CaseSeed(seed, i)).ToArray();
        var clock = Stopwatch.StartNew();
        var generating = new Stopwatch();
        var tally = new Dictionary<(string Strategy, bool Accepted), int>();
        var failures = new List<string>();
        foreach (var caseSeed in caseSeeds)
        {
            generating.Start();
            var fuzz = new SignalFuzzer(new Random((int)(caseSeed % int.MaxValue))).Next();
            generating.Stop();
            if (Check(fuzz, out var accepted) is { } failure)
            {
                failures.Add($"case seed {caseSeed} ({fuzz.Strategy}): {failure}\n  key:   {Show(fuzz.Key)}\n  value: {Show(fuzz.Value)}\n  time:  {fuzz.MessageTime:O}\n" +
                             $"  replay: STREAMING_FUZZ_CASE={caseSeed} dotnet test --filter FullyQualifiedName~JobSignalReaderFuzzTests");
                if (failures.Count == 5)
                {
                    break;
                }
                continue;
            }
            tally[(fuzz.Strategy, accepted)] = tally.GetValueOrDefault((fuzz.Strategy, accepted)) + 1;
        }

        output.WriteLine($"seed {seed}: {caseSeeds.Length} cases in {clock.Elapsed.TotalSeconds:0.0} s ({generating.Elapsed.TotalSeconds:0.0} s generating them)");
        foreach (var ((strategy, accepted), count) in tally.OrderBy(t => t.Key.Strategy, StringComparer.Ordinal).ThenBy(t => t.Key.Accepted))
        {
            output.WriteLine($"  {strategy,-14} {(accepted ? "accepted" : "rejected")} {count,6}");
        }
        Assert.True(failures.Count == 0, $"seed {seed}: the reader disagrees with the contract:\n" + string.Join("\n", failures));
        if (caseSeeds.Length == DefaultCases)
        {
            // A run that almost never accepts (or rejects) would prove little: every strategy must produce both.
            foreach (var strategy in tally.Keys.Select(k => k.Strategy).Distinct().Where(s => s != "random bytes"))
            {
                Assert.True(tally.GetValueOrDefault((strategy, true)) >= 100, $"{strategy}: too few accepted cases");
                Assert.True(tally.GetValueOrDefault((strategy, false)) >= 100, $"{strategy}: too few rejected cases");
            }
        }
    }

    static string? Check(FuzzCase fuzz, out bool accepted)
    {
        accepted = false;
        SignalReadResult result;
        try
        {
            result = JobSignalReader.Read(fuzz.Key, fuzz.Value, fuzz.Key is not null, Limit(fuzz));
        }
        catch (Exception e)
        {
            return $"threw {e}";
        }
        var expected = SignalContractOracle.Expect(fuzz.Key, fuzz.Value, Limit(fuzz)?.Latest.UtcTicks);
        if (result.Signal is not { } signal)
        {
            var reason = result.RejectionReason ?? "";
            if (reason.StartsWith(JobSignalReader.UnforeseenPrefix, StringComparison.Ordinal))
            {
                return $"rejected for a reason no check foresaw: {reason}";
            }
            if (reason.Length is 0 or > 600 || !IsPrintable(reason))
            {
                return $"a reason must be non-empty, at most 600 characters and safe to print: {UntrustedText.Escape(reason, 600)}";
            }
            return expected is null ? null : $"rejected ({reason}) what the contract accepts";
        }
        accepted = true;
        if (expected is null)
        {
            return "accepted what the contract rejects";
        }
        var actual = new OracleSignal(
            signal.JobId, signal.Seq, signal.Phase, signal.EmittedAt.UtcTicks, (long)signal.EmittedAt.Offset.TotalMinutes,
            signal.Metrics, signal.Labels, signal.CorrelationId);
        return Same(actual, expected) ? null : $"read {Describe(actual)} where the contract reads {Describe(expected)}";
    }

    static bool IsPrintable(string text)
    {
        for (var index = 0; index < text.Length;)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out var consumed) != System.Buffers.OperationStatus.Done || UntrustedText.IsHidden(rune))
            {
                return false;
            }
            index += consumed;
        }
        return true;
    }

    static EventTimeLimit? Limit(FuzzCase fuzz) => fuzz.MessageTime is { } time ? new EventTimeLimit(time, Skew) : null;

    static bool Same(OracleSignal a, OracleSignal b) =>
        a.JobId == b.JobId && a.Seq == b.Seq && a.Phase == b.Phase && a.UtcTicks == b.UtcTicks && a.OffsetMinutes == b.OffsetMinutes
        && a.CorrelationId == b.CorrelationId
        && a.Metrics.Count == b.Metrics.Count && a.Metrics.All(m => b.Metrics.TryGetValue(m.Key, out var v) && v.Equals(m.Value))
        && a.Labels.Count == b.Labels.Count && a.Labels.All(l => b.Labels.TryGetValue(l.Key, out var v) && v == l.Value);

    static string Describe(OracleSignal s) =>
        $"{{jobId {UntrustedText.Escape(s.JobId)}, seq {s.Seq}, phase {UntrustedText.Escape(s.Phase)}, at {s.UtcTicks} ticks {s.OffsetMinutes:+0;-0} min, " +
        $"metrics [{string.Join(", ", s.Metrics.Select(m => $"{UntrustedText.Escape(m.Key)}={m.Value.ToString("R", CultureInfo.InvariantCulture)}"))}], " +
        $"labels [{string.Join(", ", s.Labels.Select(l => $"{UntrustedText.Escape(l.Key)}={UntrustedText.Escape(l.Value)}"))}], correlation {UntrustedText.Escape(s.CorrelationId)}}}";

    static string Show(byte[]? bytes) => bytes is null ? "(none)" : UntrustedText.Escape(bytes, 4096);

    static long CaseSeed(long seed, int index)
    {
        // SplitMix64: independent, reproducible seeds per case.
        var z = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)index * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return (long)((z ^ (z >> 31)) & long.MaxValue);
    }

    static long? Setting(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } text ? long.Parse(text, CultureInfo.InvariantCulture) : null;
}
