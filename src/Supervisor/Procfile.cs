using System.Text.RegularExpressions;

namespace Streaming.Supervisor;

/// <summary>
/// The processes to supervise, one a line, in start order: <c>NAME: COMMAND</c>, or <c>NAME ready: COMMAND</c> for one
/// the later processes depend on. Blank lines and lines starting with <c>#</c> are ignored.
/// </summary>
public static partial class Procfile
{
    public static IReadOnlyList<ProcfileEntry> Parse(string text, string source)
    {
        var entries = new List<ProcfileEntry>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }
            var match = Line().Match(line);
            if (!match.Success)
            {
                throw new FormatException($"{source}, line {i + 1}: expected 'NAME: COMMAND' or 'NAME ready: COMMAND', got '{line}'");
            }
            var name = match.Groups["name"].Value;
            if (entries.Any(e => e.Name == name))
            {
                throw new FormatException($"{source}, line {i + 1}: '{name}' is named twice");
            }
            entries.Add(new ProcfileEntry(name, match.Groups["command"].Value.Trim(), match.Groups["ready"].Success));
        }
        return entries.Count > 0 ? entries : throw new FormatException($"{source} names no process");
    }

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9][A-Za-z0-9_-]*)(?<ready>\s+ready)?\s*:\s*(?<command>\S.*)$")]
    private static partial Regex Line();
}
