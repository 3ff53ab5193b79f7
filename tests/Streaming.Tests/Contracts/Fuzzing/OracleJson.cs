using System.Text;

namespace Streaming.Tests.Contracts.Fuzzing;

/// <summary>A JSON value as the oracle's own parser reads it; numbers keep their text, strings remember an escaped lone surrogate.</summary>
abstract record OracleNode;

sealed record OracleNull : OracleNode;

sealed record OracleBool(bool Value) : OracleNode;

sealed record OracleNumber(string Text) : OracleNode;

sealed record OracleString(string Text, bool HasLoneSurrogate) : OracleNode;

sealed record OracleArray(List<OracleNode> Items) : OracleNode;

sealed record OracleObject(List<(OracleString Name, OracleNode Value)> Members) : OracleNode;

/// <summary>
/// RFC 3629 UTF-8 and RFC 8259 JSON, written from the RFCs for the fuzz test's oracle and sharing nothing with the reader
/// under test: returns null for bytes that are not UTF-8, text that is not one JSON value, or nesting deeper than
/// <c>maxDepth</c> (the value's own object or array is level 1).
/// </summary>
sealed class OracleJson
{
    readonly byte[] _bytes;
    readonly int _maxDepth;
    int _at;

    OracleJson(byte[] bytes, int maxDepth)
    {
        _bytes = bytes;
        _maxDepth = maxDepth;
    }

    public static bool IsUtf8(ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length;)
        {
            var b = bytes[i];
            int length, min;
            if (b < 0x80)
            {
                i++;
                continue;
            }
            if (b is >= 0xC2 and <= 0xDF)
            {
                (length, min) = (2, 0x80);
            }
            else if (b is >= 0xE0 and <= 0xEF)
            {
                (length, min) = (3, 0x800);
            }
            else if (b is >= 0xF0 and <= 0xF4)
            {
                (length, min) = (4, 0x10000);
            }
            else
            {
                return false;
            }
            if (i + length > bytes.Length)
            {
                return false;
            }
            var codePoint = b & (0xFF >> (length + 1));
            for (var k = 1; k < length; k++)
            {
                if ((bytes[i + k] & 0xC0) != 0x80)
                {
                    return false;
                }
                codePoint = (codePoint << 6) | (bytes[i + k] & 0x3F);
            }
            if (codePoint < min || codePoint > 0x10FFFF || codePoint is >= 0xD800 and <= 0xDFFF)
            {
                return false;
            }
            i += length;
        }
        return true;
    }

    public static OracleNode? Parse(byte[] utf8, int maxDepth)
    {
        var parser = new OracleJson(utf8, maxDepth);
        parser.SkipSpace();
        var value = parser.Value(0);
        parser.SkipSpace();
        return value is not null && parser._at == utf8.Length ? value : null;
    }

    OracleNode? Value(int depth)
    {
        if (_at >= _bytes.Length)
        {
            return null;
        }
        switch (_bytes[_at])
        {
            case (byte)'{':
                return depth + 1 > _maxDepth ? null : Object(depth + 1);
            case (byte)'[':
                return depth + 1 > _maxDepth ? null : Array(depth + 1);
            case (byte)'"':
                return String();
            case (byte)'t':
                return Literal("true", new OracleBool(true));
            case (byte)'f':
                return Literal("false", new OracleBool(false));
            case (byte)'n':
                return Literal("null", new OracleNull());
            default:
                return Number();
        }
    }

    OracleNode? Object(int depth)
    {
        _at++;
        var members = new List<(OracleString, OracleNode)>();
        SkipSpace();
        if (Peek() == '}')
        {
            _at++;
            return new OracleObject(members);
        }
        while (true)
        {
            SkipSpace();
            if (Peek() != '"' || String() is not { } name)
            {
                return null;
            }
            SkipSpace();
            if (Peek() != ':')
            {
                return null;
            }
            _at++;
            SkipSpace();
            if (Value(depth) is not { } value)
            {
                return null;
            }
            members.Add((name, value));
            SkipSpace();
            switch (Peek())
            {
                case ',':
                    _at++;
                    continue;
                case '}':
                    _at++;
                    return new OracleObject(members);
                default:
                    return null;
            }
        }
    }

    OracleNode? Array(int depth)
    {
        _at++;
        var items = new List<OracleNode>();
        SkipSpace();
        if (Peek() == ']')
        {
            _at++;
            return new OracleArray(items);
        }
        while (true)
        {
            SkipSpace();
            if (Value(depth) is not { } item)
            {
                return null;
            }
            items.Add(item);
            SkipSpace();
            switch (Peek())
            {
                case ',':
                    _at++;
                    continue;
                case ']':
                    _at++;
                    return new OracleArray(items);
                default:
                    return null;
            }
        }
    }

    OracleString? String()
    {
        _at++;
        var units = new StringBuilder();
        var raw = new List<byte>();
        while (true)
        {
            if (_at >= _bytes.Length)
            {
                return null;
            }
            var b = _bytes[_at];
            if (b == '"')
            {
                _at++;
                Flush(units, raw);
                return new OracleString(units.ToString(), HasLoneSurrogate(units));
            }
            if (b < 0x20)
            {
                return null;
            }
            if (b != '\\')
            {
                raw.Add(b);
                _at++;
                continue;
            }
            Flush(units, raw);
            if (_at + 1 >= _bytes.Length)
            {
                return null;
            }
            var escape = (char)_bytes[_at + 1];
            _at += 2;
            switch (escape)
            {
                case '"' or '\\' or '/':
                    units.Append(escape);
                    break;
                case 'b':
                    units.Append('\b');
                    break;
                case 'f':
                    units.Append('\f');
                    break;
                case 'n':
                    units.Append('\n');
                    break;
                case 'r':
                    units.Append('\r');
                    break;
                case 't':
                    units.Append('\t');
                    break;
                case 'u':
                    if (_at + 4 > _bytes.Length)
                    {
                        return null;
                    }
                    var unit = 0;
                    for (var k = 0; k < 4; k++)
                    {
                        var h = HexValue(_bytes[_at + k]);
                        if (h < 0)
                        {
                            return null;
                        }
                        unit = unit * 16 + h;
                    }
                    _at += 4;
                    units.Append((char)unit);
                    break;
                default:
                    return null;
            }
        }
    }

    // Raw bytes are UTF-8 here (checked before parsing): decode them by hand into UTF-16 units.
    static void Flush(StringBuilder units, List<byte> raw)
    {
        for (var i = 0; i < raw.Count;)
        {
            var b = raw[i];
            var length = b < 0x80 ? 1 : b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
            var codePoint = length == 1 ? b : b & (0xFF >> (length + 1));
            for (var k = 1; k < length; k++)
            {
                codePoint = (codePoint << 6) | (raw[i + k] & 0x3F);
            }
            if (codePoint >= 0x10000)
            {
                units.Append((char)(0xD800 + ((codePoint - 0x10000) >> 10)));
                units.Append((char)(0xDC00 + ((codePoint - 0x10000) & 0x3FF)));
            }
            else
            {
                units.Append((char)codePoint);
            }
            i += length;
        }
        raw.Clear();
    }

    static bool HasLoneSurrogate(StringBuilder units)
    {
        for (var i = 0; i < units.Length; i++)
        {
            var unit = units[i];
            if (unit is >= (char)0xD800 and <= (char)0xDBFF && i + 1 < units.Length && units[i + 1] is >= (char)0xDC00 and <= (char)0xDFFF)
            {
                i++;
                continue;
            }
            if (unit is >= (char)0xD800 and <= (char)0xDFFF)
            {
                return true;
            }
        }
        return false;
    }

    OracleNode? Number()
    {
        var start = _at;
        if (Peek() == '-')
        {
            _at++;
        }
        if (Peek() == '0')
        {
            _at++;
        }
        else if (Peek() is >= '1' and <= '9')
        {
            while (Peek() is >= '0' and <= '9')
            {
                _at++;
            }
        }
        else
        {
            return null;
        }
        if (Peek() == '.')
        {
            _at++;
            if (Peek() is not (>= '0' and <= '9'))
            {
                return null;
            }
            while (Peek() is >= '0' and <= '9')
            {
                _at++;
            }
        }
        if (Peek() is 'e' or 'E')
        {
            _at++;
            if (Peek() is '+' or '-')
            {
                _at++;
            }
            if (Peek() is not (>= '0' and <= '9'))
            {
                return null;
            }
            while (Peek() is >= '0' and <= '9')
            {
                _at++;
            }
        }
        return new OracleNumber(Encoding.ASCII.GetString(_bytes, start, _at - start));
    }

    OracleNode? Literal(string word, OracleNode node)
    {
        for (var k = 0; k < word.Length; k++)
        {
            if (_at + k >= _bytes.Length || _bytes[_at + k] != word[k])
            {
                return null;
            }
        }
        _at += word.Length;
        return node;
    }

    void SkipSpace()
    {
        while (Peek() is ' ' or '\t' or '\n' or '\r')
        {
            _at++;
        }
    }

    char Peek() => _at < _bytes.Length ? (char)_bytes[_at] : '\0';

    static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
