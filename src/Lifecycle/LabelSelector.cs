namespace Streaming.Lifecycle;

/// <summary>Which jobs a policy governs: every label in <see cref="MatchLabels"/> must be present with that value.</summary>
public sealed record LabelSelector(IReadOnlyDictionary<string, string> MatchLabels)
{
    public static LabelSelector Everything { get; } = new(new Dictionary<string, string>());

    // Called for every signal with each policy: a selector's own dictionary is enumerated without boxing its enumerator.
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        if (MatchLabels is Dictionary<string, string> own)
        {
            foreach (var (name, value) in own)
            {
                if (!Holds(labels, name, value))
                {
                    return false;
                }
            }
            return true;
        }
        foreach (var (name, value) in MatchLabels)
        {
            if (!Holds(labels, name, value))
            {
                return false;
            }
        }
        return true;
    }

    static bool Holds(IReadOnlyDictionary<string, string> labels, string name, string value) =>
        labels.TryGetValue(name, out var actual) && string.Equals(actual, value, StringComparison.Ordinal);
}
