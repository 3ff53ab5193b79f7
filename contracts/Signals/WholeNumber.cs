namespace Streaming.Contracts.Signals;

/// <summary>
/// Reads a JSON number as a whole number from 0 to <see cref="long.MaxValue"/> exactly, as JSON Schema's
/// <c>"type": "integer"</c> does: <c>1042</c>, <c>1042.0</c>, <c>1.042e3</c> and <c>-0</c> are whole numbers; <c>1.5</c>,
/// <c>-1</c> and <c>1e19</c> are not.
/// </summary>
static class WholeNumber
{
    // Exponents beyond this are saturated: no value of a 64 KiB message can bring them back into range.
    const long ExponentLimit = 1_000_000_000;

    /// <param name="number">A number token as the JSON grammar allows it: <c>-?int(.frac)?([eE][+-]?digits)?</c>.</param>
    public static bool TryRead(ReadOnlySpan<byte> number, out long value)
    {
        value = 0;
        var at = 0;
        var negative = number[0] == '-';
        if (negative)
        {
            at++;
        }
        var integerStart = at;
        while (at < number.Length && char.IsAsciiDigit((char)number[at]))
        {
            at++;
        }
        var integerDigits = number[integerStart..at];
        var fractionDigits = ReadOnlySpan<byte>.Empty;
        if (at < number.Length && number[at] == '.')
        {
            var fractionStart = ++at;
            while (at < number.Length && char.IsAsciiDigit((char)number[at]))
            {
                at++;
            }
            fractionDigits = number[fractionStart..at];
        }
        long exponent = 0;
        if (at < number.Length && number[at] is (byte)'e' or (byte)'E')
        {
            at++;
            var exponentNegative = number[at] == '-';
            if (number[at] is (byte)'-' or (byte)'+')
            {
                at++;
            }
            for (; at < number.Length; at++)
            {
                exponent = Math.Min(ExponentLimit, exponent * 10 + (number[at] - '0'));
            }
            if (exponentNegative)
            {
                exponent = -exponent;
            }
        }

        // The value is digits × 10^scale, with digits free of leading and trailing zeros.
        var all = integerDigits.Length + fractionDigits.Length;
        var first = 0;
        while (first < all && Digit(integerDigits, fractionDigits, first) == 0)
        {
            first++;
        }
        if (first == all)
        {
            return true;
        }
        var last = all - 1;
        while (Digit(integerDigits, fractionDigits, last) == 0)
        {
            last--;
        }
        var scale = exponent - fractionDigits.Length + (all - 1 - last);
        var significant = last - first + 1;
        if (negative || scale < 0 || significant + scale > 19)
        {
            return false;
        }
        ulong result = 0;
        for (var i = first; i <= last; i++)
        {
            result = result * 10 + Digit(integerDigits, fractionDigits, i);
        }
        for (var i = 0L; i < scale; i++)
        {
            result *= 10;
        }
        if (result > long.MaxValue)
        {
            return false;
        }
        value = (long)result;
        return true;
    }

    static uint Digit(ReadOnlySpan<byte> integer, ReadOnlySpan<byte> fraction, int index) =>
        (uint)((index < integer.Length ? integer[index] : fraction[index - integer.Length]) - '0');
}
