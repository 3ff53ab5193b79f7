using System.Buffers;
using System.Globalization;
using System.Text;
using Streaming.Contracts.Text;

namespace Streaming.Contracts.Signals;

/// <summary>
/// What the text in a signal may be. Names (job id, phase, metric and label names) end up as stream ids, table keys
/// and log fields: 1–256 characters, not blank, no whitespace at either end, and no character that is invisible or
/// breaks a line (control characters C0, DEL and C1, format characters such as bidi controls, zero-width characters
/// and BOM, line and paragraph separators). Free text (label values, correlation id) may have spaces anywhere but none
/// of those characters either.
/// </summary>
static class SignalText
{
    public const int MaxNameLength = 256;
    public const int MaxLabelValueLength = 1024;
    public const int MaxCorrelationIdLength = 256;

    /// <summary>What is wrong with <paramref name="name"/> as a name, as the end of a sentence naming it; null when nothing is.</summary>
    public static string? NameProblem(string name)
    {
        if (name.Length == 0)
        {
            return "must not be empty";
        }
        if (LongerThan(name, MaxNameLength))
        {
            return $"must be at most {MaxNameLength} characters";
        }
        if (HiddenProblem(name) is { } hidden)
        {
            return hidden;
        }
        if (string.IsNullOrWhiteSpace(name))
        {
            return "must not be blank";
        }
        return char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[^1]) ? "must not start or end with whitespace" : null;
    }

    /// <summary>What is wrong with <paramref name="text"/> as free text of at most <paramref name="maxLength"/> characters; null when nothing is.</summary>
    public static string? TextProblem(string text, int maxLength) =>
        LongerThan(text, maxLength) ? $"must be at most {maxLength} characters" : HiddenProblem(text);

    /// <summary>Text from the message as it may appear inside a reason: escaped, at most 64 characters.</summary>
    public static string Quote(string text) => UntrustedText.Escape(text, 64);

    // Characters are Unicode code points, as JSON Schema's maxLength counts them: an emoji is one.
    static bool LongerThan(string text, int maxLength)
    {
        if (text.Length <= maxLength)
        {
            return false;
        }
        var codePoints = 0;
        for (var index = 0; index < text.Length; index += char.IsSurrogatePair(text, index) ? 2 : 1)
        {
            if (++codePoints > maxLength)
            {
                return true;
            }
        }
        return false;
    }

    static string? HiddenProblem(string text)
    {
        for (var index = 0; index < text.Length;)
        {
            var status = Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out var consumed);
            if (status != OperationStatus.Done || UntrustedText.IsHidden(rune))
            {
                var codePoint = status == OperationStatus.Done ? rune.Value : text[index];
                return string.Create(CultureInfo.InvariantCulture,
                    $"must not contain NUL, control, format or line-separator characters (found U+{codePoint:X4} at position {index})");
            }
            index += consumed;
        }
        return null;
    }
}
