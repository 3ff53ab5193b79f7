using System.Text.Json.Nodes;

namespace Streaming.Contracts.Signals;

/// <summary>
/// Label values whose names look like secrets (<c>password</c>, <c>token</c>, <c>secret</c>, <c>apikey</c>, in any case
/// and with any separators around them) are shown masked wherever people or logs see labels.
/// </summary>
public static class SecretLabels
{
    public const string Mask = "••••••";

    static readonly string[] Words = ["password", "passwd", "token", "secret", "apikey", "credential"];

    public static bool LooksSecret(string name)
    {
        Span<char> folded = stackalloc char[Math.Min(name.Length, 256)];
        var length = 0;
        foreach (var c in name.AsSpan(0, folded.Length))
        {
            if (char.IsLetterOrDigit(c))
            {
                folded[length++] = char.ToLowerInvariant(c);
            }
        }
        foreach (var word in Words)
        {
            if (folded[..length].IndexOf(word, StringComparison.Ordinal) >= 0)
            {
                return true;
            }
        }
        return false;
    }

    public static IReadOnlyDictionary<string, string> Masked(IReadOnlyDictionary<string, string> labels)
    {
        if (!labels.Keys.Any(LooksSecret))
        {
            return labels;
        }
        return labels.ToDictionary(l => l.Key, l => LooksSecret(l.Key) ? Mask : l.Value, StringComparer.Ordinal);
    }

    /// <summary>Masks the secret-looking members of a JSON object of labels, in place.</summary>
    public static void MaskInPlace(JsonObject? labels)
    {
        if (labels is null)
        {
            return;
        }
        foreach (var name in labels.Select(l => l.Key).Where(LooksSecret).ToList())
        {
            labels[name] = Mask;
        }
    }
}
