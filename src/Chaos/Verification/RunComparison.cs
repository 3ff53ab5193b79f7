using System.Text.Json;
using System.Text.Json.Nodes;
using Streaming.Chaos.Workload;

namespace Streaming.Chaos.Verification;

/// <summary>Compares what a run stored and published with the signals sent and with an uninterrupted run of the same signals.</summary>
public static class RunComparison
{
    public static (long Lost, long Duplicated) Signals(ChaosWorkload workload, StoreSnapshot run)
    {
        long lost = 0;
        for (var job = 0; job < workload.Jobs; job++)
        {
            for (var seq = 1; seq <= workload.SignalsPerJob; seq++)
            {
                if (!run.Signals.ContainsKey((ChaosWorkload.JobId(job), seq)))
                {
                    lost++;
                }
            }
        }
        var unexpected = run.Signals.Keys.LongCount(k => !IsSent(workload, k));
        return (lost, run.SignalRows - run.Signals.Count + unexpected);
    }

    /// <summary>Entries missing from either side or different between them, and the first few of them in words.</summary>
    public static long Differences<TKey>(IReadOnlyDictionary<TKey, string> run, IReadOnlyDictionary<TKey, string> reference, string what, List<string> examples)
        where TKey : notnull
    {
        long count = 0;
        var before = examples.Count;
        foreach (var (key, value) in run)
        {
            if (!reference.TryGetValue(key, out var other))
            {
                Example(examples, before, ref count, $"{what} {key}: not in the reference run: {value}");
            }
            else if (other != value)
            {
                Example(examples, before, ref count, $"{what} {key}: {FieldsThatDiffer(value, other)}");
            }
        }
        foreach (var (key, value) in reference)
        {
            if (!run.ContainsKey(key))
            {
                Example(examples, before, ref count, $"{what} {key}: missing; the reference run has {value}");
            }
        }
        return count;
    }

    // For two JSON objects (after any leading type name), the top-level fields that differ; else both whole.
    static string FieldsThatDiffer(string run, string reference)
    {
        static JsonObject? Parse(string text)
        {
            try
            {
                return JsonNode.Parse(text[text.IndexOf('{', StringComparison.Ordinal)..]) as JsonObject;
            }
            catch (Exception e) when (e is JsonException or ArgumentOutOfRangeException)
            {
                return null;
            }
        }
        if (Parse(run) is not { } a || Parse(reference) is not { } b)
        {
            return $"{run} | reference: {reference}";
        }
        var fields = a.Select(p => p.Key).Union(b.Select(p => p.Key))
            .Where(name => a[name]?.ToJsonString() != b[name]?.ToJsonString())
            .Select(name => $"{name} = {a[name]?.ToJsonString() ?? "(none)"}, reference {b[name]?.ToJsonString() ?? "(none)"}");
        return string.Join("; ", fields);
    }

    // The first two of each kind of difference, in words.
    static void Example(List<string> examples, int before, ref long count, string example)
    {
        count++;
        if (examples.Count < before + 2)
        {
            examples.Add(example.Length <= 1500 ? example : example[..1500] + "…");
        }
    }

    /// <summary>
    /// A job-state row without what depends on where its decisions landed among its later signals in the log (the
    /// Projector folds in log order, so a signal appended just before or just after a decision is read as reporting
    /// the old or the new phase): acknowledgement and mismatch flags, the criteria last evaluated, the internal snapshot.
    /// Two uninterrupted runs of the same signals differ in these; a run's own rebuild does not (checked separately).
    /// </summary>
    public static IReadOnlyDictionary<string, string> Settled(IReadOnlyDictionary<string, string> jobStates) =>
        jobStates.ToDictionary(row => row.Key, row =>
        {
            var fields = JsonNode.Parse(row.Value)!.AsObject();
            foreach (var name in InterleavingDependent)
            {
                fields.Remove(name);
            }
            return fields.ToJsonString();
        });

    static readonly string[] InterleavingDependent = ["flags", "awaiting_ack", "phase_since", "last_reported_phase", "lifecycle"];

    public static long Unpublished(StoreSnapshot run, PublishedChanges published) =>
        run.Decisions.Keys.LongCount(id => !published.ByEventId.ContainsKey(id));

    static bool IsSent(ChaosWorkload workload, (string JobId, long Seq) key) =>
        key.JobId.StartsWith("chaos-", StringComparison.Ordinal)
        && int.TryParse(key.JobId.AsSpan(6), System.Globalization.CultureInfo.InvariantCulture, out var job)
        && job < workload.Jobs && key.Seq >= 1 && key.Seq <= workload.SignalsPerJob;
}
