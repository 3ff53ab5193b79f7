using System.Globalization;

namespace Streaming.Embedded;

/// <summary>The flags of <c>run.sh</c>, turned into configuration keys.</summary>
static class CommandLineFlags
{
    public static Dictionary<string, string?> Parse(string[] args)
    {
        var settings = new Dictionary<string, string?>();
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--no-fleet":
                    settings["Fleet:Enabled"] = "false";
                    break;
                case "--jobs" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out _):
                    settings["Fleet:Jobs"] = args[++i];
                    break;
                case "--http-port" when i + 1 < args.Length && int.TryParse(args[i + 1], CultureInfo.InvariantCulture, out _):
                    settings["Embedded:HttpPort"] = args[++i];
                    break;
                case "--endpoints-file" when i + 1 < args.Length:
                    settings["Embedded:EndpointsFile"] = args[++i];
                    break;
                default:
                    throw new ArgumentException(
                        $"unknown flag '{args[i]}'; flags: --no-fleet, --jobs N, --http-port N, --endpoints-file PATH");
            }
        }
        return settings;
    }
}
