using System.CommandLine;

namespace Streaming.Cli.Commands;

/// <summary>The repeatable <c>--label NAME=VALUE</c> of commands that select jobs by their labels.</summary>
public static class LabelOption
{
    public static Option<string[]> Create(string description) => new("--label") { Description = description };

    /// <summary>The labels given, by name; a label that is not <c>NAME=VALUE</c> is misuse (exit 2).</summary>
    public static Dictionary<string, string> Selector(ParseResult parse, Option<string[]> labels)
    {
        var selector = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var label in parse.GetValue(labels) ?? [])
        {
            if (label.Split('=', 2) is not [{ Length: > 0 } name, var value])
            {
                throw new CommandFailedException($"--label {label}: expected NAME=VALUE", 2);
            }
            selector[name] = value;
        }
        return selector;
    }
}
