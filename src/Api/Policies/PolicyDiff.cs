namespace Streaming.Api.Policies;

/// <summary>
/// A line diff of two policy versions: each line kept (<c>" "</c>), removed (<c>"-"</c>) or added (<c>"+"</c>). The
/// common head and tail are matched first; the changed middle by longest common subsequence while its table stays
/// within <see cref="MostCells"/>, beyond that as a whole block removed and added, so no pair of versions costs more.
/// </summary>
public static class PolicyDiff
{
    public const long MostCells = 1_000_000;

    public sealed record Line(string Op, string Text);

    public static IReadOnlyList<Line> Between(string before, string after)
    {
        var a = before.ReplaceLineEndings("\n").Split('\n');
        var b = after.ReplaceLineEndings("\n").Split('\n');
        var head = 0;
        while (head < a.Length && head < b.Length && a[head] == b[head])
        {
            head++;
        }
        var tail = 0;
        while (tail < a.Length - head && tail < b.Length - head && a[^(tail + 1)] == b[^(tail + 1)])
        {
            tail++;
        }
        var lines = new List<Line>(a.Length + b.Length);
        lines.AddRange(a[..head].Select(text => new Line(" ", text)));
        var removed = a[head..^tail];
        var added = b[head..^tail];
        if ((long)(removed.Length + 1) * (added.Length + 1) <= MostCells)
        {
            Middle(removed, added, lines);
        }
        else
        {
            lines.AddRange(removed.Select(text => new Line("-", text)));
            lines.AddRange(added.Select(text => new Line("+", text)));
        }
        lines.AddRange(a[^tail..].Select(text => new Line(" ", text)));
        return lines;
    }

    static void Middle(string[] a, string[] b, List<Line> lines)
    {
        var common = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                common[i, j] = a[i] == b[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                lines.Add(new Line(" ", a[x++]));
                y++;
            }
            else if (y < b.Length && (x == a.Length || common[x, y + 1] >= common[x + 1, y]))
            {
                lines.Add(new Line("+", b[y++]));
            }
            else
            {
                lines.Add(new Line("-", a[x++]));
            }
        }
    }
}
