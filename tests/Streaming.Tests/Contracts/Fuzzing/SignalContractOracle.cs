using System.Globalization;
using System.Numerics;
using System.Text.RegularExpressions;

namespace Streaming.Tests.Contracts.Fuzzing;

/// <summary>What the oracle expects of a signal it accepts: the instant and offset of its event time, and its fields.</summary>
sealed record OracleSignal(
    string JobId,
    long Seq,
    string Phase,
    long UtcTicks,
    long OffsetMinutes,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Labels,
    string? CorrelationId);

/// <summary>
/// The wire contract of <c>job-signal/v1</c> (contracts/schemas/job-signal.v1.json and the README's rules) written a
/// second time, from the documents and not from the reader: says whether a message matches it and, if so, what signal
/// it carries. The fuzz test holds the reader to it.
/// </summary>
static partial class SignalContractOracle
{
    const int MaxValueBytes = 65536;
    const int MaxDepth = 64;
    const int MaxNameLength = 256;
    const int MaxLabelValueLength = 1024;
    const int MaxCorrelationIdLength = 256;
    static readonly string[] ReservedPrefixes = ["policy:", "shadow-policy:", "shadow:", "known-issue:", "breaker:", "pause:", "admission:", "breaker-count:"];
    static readonly string[] KnownFields = ["schema", "jobId", "emittedAt", "seq", "phase", "metrics", "labels", "correlationId"];

    // The smallest magnitude that rounds to infinity as an IEEE-754 double: 2^1024 - 2^970.
    static readonly BigInteger DoubleOverflow = BigInteger.Pow(2, 1024) - BigInteger.Pow(2, 970);
    static readonly BigInteger MaxSeq = long.MaxValue;

    // Ticks (100 ns) from 0001-01-01T00:00:00Z.
    static readonly long EarliestTicks = CivilTicks(2000, 1, 1);
    static readonly long LatestTicks = CivilTicks(10000, 1, 1) - 1;

    /// <summary>The signal the message carries, or null when it breaks the contract.</summary>
    /// <param name="latestUtcTicks">The latest event time the message's timestamp allows, null for none.</param>
    public static OracleSignal? Expect(byte[]? key, byte[] value, long? latestUtcTicks)
    {
        if (value.Length == 0 || value.Length > MaxValueBytes || !OracleJson.IsUtf8(value))
        {
            return null;
        }
        if (OracleJson.Parse(value, MaxDepth) is not OracleObject root || HasLoneSurrogate(root))
        {
            return null;
        }
        var fields = new Dictionary<string, OracleNode>(StringComparer.Ordinal);
        foreach (var (name, node) in root.Members)
        {
            if (KnownFields.Contains(name.Text, StringComparer.Ordinal) && !fields.TryAdd(name.Text, node))
            {
                return null;
            }
        }
        if (Text(fields, "schema") != "job-signal/v1"
            || Text(fields, "jobId") is not { } jobId || !IsName(jobId) || ReservedPrefixes.Any(p => jobId.StartsWith(p, StringComparison.Ordinal))
            || Text(fields, "phase") is not { } phase || !IsName(phase)
            || Text(fields, "emittedAt") is not { } emittedAt || EventTime(emittedAt) is not var (utcTicks, offsetMinutes)
            || utcTicks < EarliestTicks || utcTicks > LatestTicks || latestUtcTicks is { } latest && utcTicks > latest
            || fields.GetValueOrDefault("seq") is not OracleNumber seqNumber || WholeNumber(seqNumber.Text) is not { } seq
            || fields.GetValueOrDefault("metrics") is not OracleObject metricsObject || Metrics(metricsObject) is not { } metrics
            || Labels(fields.GetValueOrDefault("labels")) is not { } labels
            || !CorrelationId(fields.GetValueOrDefault("correlationId"), out var correlationId))
        {
            return null;
        }
        if (key is null || key.Length == 0 || !key.AsSpan().SequenceEqual(Utf8(jobId)))
        {
            return null;
        }
        return new OracleSignal(jobId, seq, phase, utcTicks, offsetMinutes, metrics, labels, correlationId);
    }

    static string? Text(Dictionary<string, OracleNode> fields, string name) => fields.GetValueOrDefault(name) is OracleString s ? s.Text : null;

    static bool HasLoneSurrogate(OracleNode node) => node switch
    {
        OracleString s => s.HasLoneSurrogate,
        OracleArray a => a.Items.Any(HasLoneSurrogate),
        OracleObject o => o.Members.Any(m => m.Name.HasLoneSurrogate || HasLoneSurrogate(m.Value)),
        _ => false,
    };

    static Dictionary<string, double>? Metrics(OracleObject metrics)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (name, node) in metrics.Members)
        {
            if (!IsName(name.Text) || node is not OracleNumber number || !IsFiniteDouble(number.Text)
                || !result.TryAdd(name.Text, double.Parse(number.Text, NumberStyles.Float, CultureInfo.InvariantCulture)))
            {
                return null;
            }
        }
        return result;
    }

    static Dictionary<string, string>? Labels(OracleNode? labels)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (labels is null or OracleNull)
        {
            return result;
        }
        if (labels is not OracleObject members)
        {
            return null;
        }
        foreach (var (name, node) in members.Members)
        {
            if (!IsName(name.Text) || node is not OracleString text || !IsText(text.Text, MaxLabelValueLength) || !result.TryAdd(name.Text, text.Text))
            {
                return null;
            }
        }
        return result;
    }

    static bool CorrelationId(OracleNode? node, out string? correlationId)
    {
        correlationId = (node as OracleString)?.Text;
        return node is null or OracleNull || node is OracleString s && IsText(s.Text, MaxCorrelationIdLength);
    }

    static bool IsName(string name)
    {
        var codePoints = CodePoints(name);
        return codePoints.Count is > 0 and <= MaxNameLength && codePoints.All(c => !IsHidden(c))
            && !IsWhiteSpace(codePoints[0]) && !IsWhiteSpace(codePoints[^1]);
    }

    static bool IsText(string text, int maxLength)
    {
        var codePoints = CodePoints(text);
        return codePoints.Count <= maxLength && codePoints.All(c => !IsHidden(c));
    }

    static List<int> CodePoints(string text)
    {
        var codePoints = new List<int>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                codePoints.Add(0x10000 + ((text[i] - 0xD800) << 10) + (text[i + 1] - 0xDC00));
                i++;
            }
            else
            {
                codePoints.Add(text[i]);
            }
        }
        return codePoints;
    }

    // Control characters (C0, DEL, C1), format characters, line and paragraph separators.
    static bool IsHidden(int codePoint) =>
        codePoint is <= 0x1F or (>= 0x7F and <= 0x9F) or 0x2028 or 0x2029
        || CharUnicodeInfo.GetUnicodeCategory(codePoint) == UnicodeCategory.Format;

    // Unicode's White_Space property.
    static bool IsWhiteSpace(int codePoint) =>
        codePoint is (>= 0x09 and <= 0x0D) or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    [GeneratedRegex("^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\\.([0-9]{1,9}))?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))\\z", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339Pattern();

    static (long UtcTicks, long OffsetMinutes)? EventTime(string text)
    {
        var match = Rfc3339Pattern().Match(text);
        if (!match.Success)
        {
            return null;
        }
        int Part(int group) => int.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture);
        var (year, month, day, hour, minute, second) = (Part(1), Part(2), Part(3), Part(4), Part(5), Part(6));
        var leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
        int[] days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        if (month is < 1 or > 12 || day < 1 || day > days[month - 1] || hour > 23 || minute > 59 || second > 59)
        {
            return null;
        }
        long offsetMinutes = 0;
        if (!match.Groups[8].Success)
        {
            var (offsetHours, offsetMinute) = (Part(10), Part(11));
            if (offsetMinute > 59 || offsetHours * 60 + offsetMinute > 14 * 60)
            {
                return null;
            }
            offsetMinutes = (match.Groups[9].Value == "-" ? -1 : 1) * (offsetHours * 60L + offsetMinute);
        }
        var fraction = match.Groups[7].Success ? match.Groups[7].Value.PadRight(9, '0')[..7] : "0";
        var ticks = CivilTicks(year, month, day) + ((hour * 60L + minute) * 60 + second) * TimeSpan.TicksPerSecond
            + long.Parse(fraction, CultureInfo.InvariantCulture) - offsetMinutes * TimeSpan.TicksPerMinute;
        return (ticks, offsetMinutes);
    }

    // Days from 0001-01-01 in the proleptic Gregorian calendar (Howard Hinnant's days_from_civil), as ticks.
    static long CivilTicks(long year, long month, long day)
    {
        year -= month <= 2 ? 1 : 0;
        var era = (year >= 0 ? year : year - 399) / 400;
        var yearOfEra = year - era * 400;
        var dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
        var dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear;
        var daysFromUnixEpoch = era * 146097 + dayOfEra - 719468;
        return (daysFromUnixEpoch + 719162) * TimeSpan.TicksPerDay;
    }

    // A JSON number as digits × 10^exponent, exactly.
    static (bool Negative, BigInteger Digits, long Exponent) Decimal(string number)
    {
        var negative = number.StartsWith('-');
        var body = negative ? number[1..] : number;
        var e = body.IndexOfAny(['e', 'E']);
        long exponent = 0;
        if (e >= 0)
        {
            var exponentText = body[(e + 1)..].TrimStart('+');
            var exponentNegative = exponentText.StartsWith('-');
            var exponentDigits = exponentText.TrimStart('-').TrimStart('0');
            exponent = exponentDigits.Length > 12 ? 1_000_000_000_000 : exponentDigits.Length == 0 ? 0 : long.Parse(exponentDigits, CultureInfo.InvariantCulture);
            exponent = exponentNegative ? -exponent : exponent;
            body = body[..e];
        }
        var dot = body.IndexOf('.', StringComparison.Ordinal);
        var digits = dot < 0 ? body : body.Remove(dot, 1);
        exponent -= dot < 0 ? 0 : body.Length - dot - 1;
        return (negative, BigInteger.Parse("0" + digits, CultureInfo.InvariantCulture), exponent);
    }

    static long? WholeNumber(string number)
    {
        var (negative, digits, exponent) = Decimal(number);
        if (digits.IsZero)
        {
            return 0;
        }
        while (exponent < 0 && digits % 10 == 0)
        {
            digits /= 10;
            exponent++;
        }
        if (negative || exponent < 0 || exponent > 19)
        {
            return null;
        }
        var value = digits * BigInteger.Pow(10, (int)exponent);
        return value <= MaxSeq ? (long)value : null;
    }

    static bool IsFiniteDouble(string number)
    {
        var (_, digits, exponent) = Decimal(number);
        if (digits.IsZero || exponent < -(digits.ToString(CultureInfo.InvariantCulture).Length + 400))
        {
            return true;
        }
        if (exponent > 400)
        {
            return false;
        }
        return exponent >= 0
            ? digits * BigInteger.Pow(10, (int)exponent) < DoubleOverflow
            : digits < DoubleOverflow * BigInteger.Pow(10, (int)-exponent);
    }

    static byte[] Utf8(string text)
    {
        var bytes = new List<byte>();
        foreach (var codePoint in CodePoints(text))
        {
            if (codePoint < 0x80)
            {
                bytes.Add((byte)codePoint);
            }
            else if (codePoint < 0x800)
            {
                bytes.AddRange([(byte)(0xC0 | codePoint >> 6), (byte)(0x80 | codePoint & 0x3F)]);
            }
            else if (codePoint < 0x10000)
            {
                bytes.AddRange([(byte)(0xE0 | codePoint >> 12), (byte)(0x80 | codePoint >> 6 & 0x3F), (byte)(0x80 | codePoint & 0x3F)]);
            }
            else
            {
                bytes.AddRange([(byte)(0xF0 | codePoint >> 18), (byte)(0x80 | codePoint >> 12 & 0x3F), (byte)(0x80 | codePoint >> 6 & 0x3F), (byte)(0x80 | codePoint & 0x3F)]);
            }
        }
        return [.. bytes];
    }
}
