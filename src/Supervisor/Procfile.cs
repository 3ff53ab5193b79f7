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

    /// <summary>
    /// Runs the line named NAME as N processes NAME-1 .. NAME-N, each with its own <see cref="ProcfileEntry.Instance"/>,
    /// for every NAME=N in <paramref name="instances"/>.
    /// </summary>
    public static IReadOnlyList<ProcfileEntry> WithInstances(IReadOnlyList<ProcfileEntry> entries, IReadOnlyDictionary<string, int> instances)
    {
        foreach (var (name, count) in instances)
        {
            var entry = entries.FirstOrDefault(e => e.Name == name) ?? throw new ArgumentException($"--instances names '{name}', which the procfile does not");
            if (entry.Ready || count < 1)
            {
                throw new ArgumentException($"--instances {name}={count}: only a process nothing waits for ('ready') runs as copies, at least one");
            }
        }
        return [.. entries.SelectMany(e => instances.TryGetValue(e.Name, out var count) && count > 1
            ? Enumerable.Range(1, count).Select(i => e with { Name = $"{e.Name}-{i}", Instance = i })
            : [e])];
    }

    [GeneratedRegex(@"^(?<name>[A-Za-z0-9][A-Za-z0-9_-]*)(?<ready>\s+ready)?\s*:\s*(?<command>\S.*)$")]
    private static partial Regex Line();
}
