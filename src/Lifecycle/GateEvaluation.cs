namespace Streaming.Lifecycle;

/// <summary>Evaluates a gate rule over a job's window: the verdict alone on the hot path, every value for explanations.</summary>
static class GateEvaluation
{
    /// <summary>Fail if any criterion fails, else no data if any has too few samples and holds, else pass.</summary>
    public static Verdict Verdict(ReadOnlySpan<WindowSample> window, DateTimeOffset now, GateRule rule)
    {
        var since = EventTimes.Before(now, rule.Window);
        var verdict = Lifecycle.Verdict.Pass;
        for (var i = 0; i < rule.Criteria.Count; i++)
        {
            var criterion = rule.Criteria[i];
            switch (Judge(WindowAggregate.Compute(window, since, criterion), criterion))
            {
                case Lifecycle.Verdict.Fail:
                    return Lifecycle.Verdict.Fail;
                case Lifecycle.Verdict.NoData:
                    verdict = Lifecycle.Verdict.NoData;
                    break;
            }
        }
        return verdict;
    }

    /// <summary>Each criterion with its value, threshold and verdict.</summary>
    public static CriterionResult[] Results(ReadOnlySpan<WindowSample> window, DateTimeOffset now, GateRule rule)
    {
        var since = EventTimes.Before(now, rule.Window);
        var results = new CriterionResult[rule.Criteria.Count];
        for (var i = 0; i < results.Length; i++)
        {
            var criterion = rule.Criteria[i];
            var computed = WindowAggregate.Compute(window, since, criterion);
            results[i] = new CriterionResult(criterion.Metric, criterion.Aggregation, criterion.Comparison, criterion.Threshold,
                computed.Value, computed.Samples, Judge(computed, criterion));
        }
        return results;
    }

    public static Verdict Combine(IReadOnlyList<CriterionResult> results)
    {
        var verdict = Lifecycle.Verdict.Pass;
        foreach (var result in results)
        {
            if (result.Verdict == Lifecycle.Verdict.Fail)
            {
                return Lifecycle.Verdict.Fail;
            }
            if (result.Verdict == Lifecycle.Verdict.NoData)
            {
                verdict = Lifecycle.Verdict.NoData;
            }
        }
        return verdict;
    }

    static Verdict Judge((double? Value, int Samples) computed, Criterion criterion)
    {
        if (computed.Value is not { } value || computed.Samples < Math.Max(1, criterion.MinSamples))
        {
            return criterion.Missing switch
            {
                MissingData.Fail => Lifecycle.Verdict.Fail,
                MissingData.Ignore => Lifecycle.Verdict.Ignored,
                _ => Lifecycle.Verdict.NoData,
            };
        }
        return criterion.Holds(value) ? Lifecycle.Verdict.Pass : Lifecycle.Verdict.Fail;
    }
}
