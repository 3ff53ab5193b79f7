using System.CommandLine;

namespace Streaming.Cli.Commands;

/// <summary>
/// The <c>--by</c> that writes once took: the actor was whatever was typed. Writes now go through the API, which records
/// the token's holder; a <c>--by</c> is refused with that explanation rather than silently ignored.
/// </summary>
public static class ActorOption
{
    public static Option<string?> Refused() => new("--by") { Hidden = true };

    public static void Refuse(ParseResult parse, Option<string?> by)
    {
        if (parse.GetResult(by) is not null)
        {
            throw new CommandFailedException(
                "--by is no longer taken: the actor recorded is the holder of the API token sent (--token-file or STREAMING_API_TOKEN)", 2);
        }
    }
}
