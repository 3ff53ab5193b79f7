namespace Streaming.Lifecycle;

/// <summary>Which jobs a policy governs: every label in <see cref="MatchLabels"/> must be present with that value.</summary>
public sealed record LabelSelector(IReadOnlyDictionary<string, string> MatchLabels)
{
    public static LabelSelector Everything { get; } = new(new Dictionary<string, string>());

    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (name, value) in MatchLabels)
        {
            if (!labels.TryGetValue(name, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }
}
