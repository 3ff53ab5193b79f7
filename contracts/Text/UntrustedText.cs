using System.Buffers;
using System.Globalization;
using System.Text;

namespace Streaming.Contracts.Text;

/// <summary>
/// Renders text that came from outside (message keys, field values, a parser's message) for a log line or a rejection
/// reason: what could end, fake or disguise a line is escaped, and the result is cut to a bounded length.
/// </summary>
/// <remarks>
/// Escaped: backslash (<c>\\</c>), line feed, carriage return and tab (<c>\n</c>, <c>\r</c>, <c>\t</c>), every other
/// control, format (bidi controls, zero-width characters, BOM) or line/paragraph separator character and lone
/// surrogates (<c>\u001B</c>, <c>\u202E</c>, <c>\u{E0001}</c>), and bytes that are not UTF-8 (<c>\xFF</c>).
/// </remarks>
public static class UntrustedText
{
    public const int DefaultMaxLength = 128;

    public static string Escape(string? text, int maxLength = DefaultMaxLength)
    {
        if (text is null)
        {
            return "(null)";
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        if (text.Length <= maxLength && !NeedsEscaping(text))
        {
            return text;
        }
        var builder = new StringBuilder(Math.Min(text.Length, maxLength) + 24);
        var index = 0;
        while (index < text.Length && builder.Length < maxLength)
        {
            if (Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out var consumed) != OperationStatus.Done)
            {
                AppendCodePoint(builder, text[index]);
                index++;
                continue;
            }
            Append(builder, rune);
            index += consumed;
        }
        return index < text.Length ? Cut(builder, text.Length - index, "characters") : builder.ToString();
    }

    public static string Escape(ReadOnlySpan<byte> utf8, int maxLength = DefaultMaxLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        var builder = new StringBuilder(Math.Min(utf8.Length, maxLength) + 24);
        var index = 0;
        while (index < utf8.Length && builder.Length < maxLength)
        {
            if (Rune.DecodeFromUtf8(utf8[index..], out var rune, out var consumed) != OperationStatus.Done)
            {
                builder.Append(CultureInfo.InvariantCulture, $"\\x{utf8[index]:X2}");
                index++;
                continue;
            }
            Append(builder, rune);
            index += consumed;
        }
        return index < utf8.Length ? Cut(builder, utf8.Length - index, "bytes") : builder.ToString();
    }

    /// <summary>Whether a character may not appear as itself in a line of text: a control, format or separator character.</summary>
    public static bool IsHidden(Rune rune) => Rune.GetUnicodeCategory(rune) is
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator
        or UnicodeCategory.ParagraphSeparator;

    static bool NeedsEscaping(string text)
    {
        foreach (var c in text)
        {
            if (c == '\\' || char.IsSurrogate(c) || IsHidden(new Rune(c)))
            {
                return true;
            }
        }
        return false;
    }

    static void Append(StringBuilder builder, Rune rune)
    {
        switch (rune.Value)
        {
            case '\\':
                builder.Append(@"\\");
                return;
            case '\n':
                builder.Append(@"\n");
                return;
            case '\r':
                builder.Append(@"\r");
                return;
            case '\t':
                builder.Append(@"\t");
                return;
        }
        if (IsHidden(rune))
        {
            AppendCodePoint(builder, rune.Value);
            return;
        }
        builder.Append(rune.ToString());
    }

    static void AppendCodePoint(StringBuilder builder, int codePoint)
    {
        if (codePoint <= 0xFFFF)
        {
            builder.Append(CultureInfo.InvariantCulture, $"\\u{codePoint:X4}");
        }
        else
        {
            builder.Append(CultureInfo.InvariantCulture, $"\\u{{{codePoint:X}}}");
        }
    }

    static string Cut(StringBuilder builder, int left, string unit) =>
        builder.Append(CultureInfo.InvariantCulture, $"…(+{left} {unit})").ToString();
}
