namespace Streaming.Api.Policies;

/// <summary>A line diff of two policy versions (longest common subsequence): each line kept (<c>" "</c>), removed (<c>"-"</c>) or added (<c>"+"</c>).</summary>
public static class PolicyDiff
{
    public sealed record Line(string Op, string Text);

    public static IReadOnlyList<Line> Between(string before, string after)
    {
        var a = before.ReplaceLineEndings("\n").Split('\n');
        var b = after.ReplaceLineEndings("\n").Split('\n');
        var common = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                common[i, j] = a[i] == b[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }
        var lines = new List<Line>();
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
        return lines;
    }
}
