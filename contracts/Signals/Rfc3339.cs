namespace Streaming.Contracts.Signals;

/// <summary>
/// Reads an RFC 3339 date-time (section 5.6) and nothing looser: <c>YYYY-MM-DDTHH:MM:SS</c>, optionally a fraction of
/// 1–9 digits, then <c>Z</c> or a numeric offset <c>±HH:MM</c> no larger than ±14:00 (what a time zone can be). <c>T</c>
/// and <c>Z</c> may be lower case; <c>-00:00</c> means UTC. Leap seconds (<c>:60</c>) are refused. Digits beyond the
/// seventh of the fraction (100 ns) are dropped.
/// </summary>
static class Rfc3339
{
    public enum Outcome
    {
        Parsed,
        Malformed,

        /// <summary>Well formed, but before 0001-01-01T00:00:00Z, which no <see cref="DateTimeOffset"/> can hold.</summary>
        TooEarly,

        /// <summary>Well formed, but after 9999-12-31T23:59:59.9999999Z, which no <see cref="DateTimeOffset"/> can hold.</summary>
        TooLate,
    }

    const int MaxFractionDigits = 9;
    static readonly long MaxOffsetTicks = TimeSpan.FromHours(14).Ticks;

    public static Outcome Parse(string text, out DateTimeOffset value)
    {
        value = default;
        var s = text.AsSpan();
        if (s.Length < 20 || s.Length > 20 + 1 + MaxFractionDigits + 5
            || !Digits(s, 0, 4, out var year) || s[4] != '-' || !Digits(s, 5, 2, out var month) || s[7] != '-'
            || !Digits(s, 8, 2, out var day) || s[10] is not ('T' or 't')
            || !Digits(s, 11, 2, out var hour) || s[13] != ':' || !Digits(s, 14, 2, out var minute) || s[16] != ':'
            || !Digits(s, 17, 2, out var second))
        {
            return Outcome.Malformed;
        }
        var at = 19;
        long fractionTicks = 0;
        if (s[at] == '.')
        {
            var digits = 0;
            for (at++; at < s.Length && char.IsAsciiDigit(s[at]); at++, digits++)
            {
                if (digits < 7)
                {
                    fractionTicks = fractionTicks * 10 + (s[at] - '0');
                }
            }
            if (digits is 0 or > MaxFractionDigits)
            {
                return Outcome.Malformed;
            }
            for (; digits < 7; digits++)
            {
                fractionTicks *= 10;
            }
        }
        if (!TryOffset(s[at..], out var offsetTicks)
            || year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return Outcome.Malformed;
        }
        var localTicks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).Ticks + fractionTicks;
        var utcTicks = localTicks - offsetTicks;
        if (utcTicks < DateTime.MinValue.Ticks)
        {
            return Outcome.TooEarly;
        }
        if (utcTicks > DateTime.MaxValue.Ticks)
        {
            return Outcome.TooLate;
        }
        value = new DateTimeOffset(localTicks, TimeSpan.FromTicks(offsetTicks));
        return Outcome.Parsed;
    }

    static bool TryOffset(ReadOnlySpan<char> s, out long ticks)
    {
        ticks = 0;
        if (s is ['Z' or 'z'])
        {
            return true;
        }
        if (s.Length != 6 || s[0] is not ('+' or '-') || !Digits(s, 1, 2, out var hours) || s[3] != ':' || !Digits(s, 4, 2, out var minutes)
            || minutes > 59)
        {
            return false;
        }
        ticks = (s[0] == '-' ? -1 : 1) * (hours * TimeSpan.TicksPerHour + minutes * TimeSpan.TicksPerMinute);
        return Math.Abs(ticks) <= MaxOffsetTicks;
    }

    static bool Digits(ReadOnlySpan<char> s, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(s[i]))
            {
                return false;
            }
            value = value * 10 + (s[i] - '0');
        }
        return true;
    }
}
