using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Streaming.Lifecycle;

/// <summary>
/// What a policy document may cost before it is parsed into a tree: its size, its nesting depth and the nodes it holds
/// with every alias expanded. Loading a tree recurses once per level, and a stack overflow cannot be caught, so a
/// document too deep (or an alias bomb) is refused by this event-by-event pass, which keeps no stack of its own.
/// </summary>
public static class PolicyTextBudget
{
    public const int MostCharacters = 256 * 1024;
    public const int MostDepth = 32;
    public const long MostExpandedNodes = 50_000;

    /// <summary>Why the document is over budget, or null when it is within it (syntax errors are left to the parser).</summary>
    public static PolicyError? Check(string text)
    {
        if (text.Length > MostCharacters)
        {
            return new PolicyError(1, 1, "document", $"is {text.Length} characters; at most {MostCharacters}");
        }
        var parser = new Parser(new StringReader(text));
        var anchorSizes = new Dictionary<string, long>(StringComparer.Ordinal);
        var open = new Stack<(string? Anchor, long ExpandedAtStart)>();
        long expanded = 0;
        try
        {
            while (parser.MoveNext())
            {
                switch (parser.Current)
                {
                    case AnchorAlias alias:
                        expanded += anchorSizes.GetValueOrDefault(alias.Value.Value, 1);
                        break;
                    case Scalar scalar:
                        expanded++;
                        if (!scalar.Anchor.IsEmpty)
                        {
                            anchorSizes[scalar.Anchor.Value] = 1;
                        }
                        break;
                    case NodeEvent { } start and (MappingStart or SequenceStart):
                        expanded++;
                        if (open.Count >= MostDepth)
                        {
                            return new PolicyError((int)start.Start.Line, (int)start.Start.Column, "document", $"nests deeper than {MostDepth} levels");
                        }
                        open.Push((start.Anchor.IsEmpty ? null : start.Anchor.Value, expanded));
                        break;
                    case MappingEnd or SequenceEnd when open.Count > 0:
                        var (anchor, atStart) = open.Pop();
                        if (anchor is not null)
                        {
                            anchorSizes[anchor] = expanded - atStart + 1;
                        }
                        break;
                }
                if (expanded > MostExpandedNodes)
                {
                    return new PolicyError((int)parser.Current!.Start.Line, (int)parser.Current.Start.Column, "document",
                        $"holds more than {MostExpandedNodes} values with its aliases expanded");
                }
            }
        }
        catch (YamlException)
        {
            // Not well-formed: the parser that follows reports where and why.
        }
        return null;
    }
}
