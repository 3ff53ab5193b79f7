using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace Streaming.Lifecycle;

public static partial class PolicyDocument
{
    /// <summary>Most promotion windows per policy.</summary>
    public const int MostWindows = 16;

    sealed partial class Reader
    {
        // silence, silenceAction, windows, pauseDemotions, windowDemotions: all optional, together a GateControls.
        GateControls? Controls(Dictionary<string, YamlNode> fields)
        {
            SilenceRule? silence = null;
            if (fields.TryGetValue("silence", out var silenceNode) && Duration(silenceNode, "silence", positive: true) is { } after)
            {
                var action = fields.TryGetValue("silenceAction", out var actionNode) ? Action(actionNode) : SilenceAction.Hold;
                silence = new SilenceRule(after, action ?? SilenceAction.Hold);
            }
            else if (silenceNode is null && fields.TryGetValue("silenceAction", out var orphan))
            {
                Error(orphan, "silenceAction", "needs silence: the time after which a job that sent no signal is silent");
            }
            var windows = fields.TryGetValue("windows", out var windowsNode) ? Windows(windowsNode) : [];
            var pauseDemotions = fields.TryGetValue("pauseDemotions", out var pauseNode) && Flag(pauseNode, "pauseDemotions") == true;
            var windowDemotions = !fields.TryGetValue("windowDemotions", out var windowNode) || Flag(windowNode, "windowDemotions") != false;
            if (windowNode is not null && windows.Count == 0)
            {
                Error(windowNode, "windowDemotions", "needs windows: without them promotions and demotions happen at any time");
            }
            return silence is null && windows.Count == 0 && !pauseDemotions && windowDemotions
                ? null
                : new GateControls(silence, windows, pauseDemotions, windowDemotions);
        }

        SilenceAction? Action(YamlNode node) => Text(node, "silenceAction") switch
        {
            null => null,
            "hold" => SilenceAction.Hold,
            "demote" => SilenceAction.Demote,
            var other => Invalid<SilenceAction>(node, "silenceAction", $"'{other}' is not a silence action (hold, demote)"),
        };

        bool? Flag(YamlNode node, string path) => Text(node, path) switch
        {
            null => null,
            "true" => true,
            "false" => false,
            var other => Invalid<bool>(node, path, $"'{other}' is not true or false"),
        };

        List<PromotionWindow> Windows(YamlNode node)
        {
            var windows = new List<PromotionWindow>();
            if (node is not YamlSequenceNode sequence || sequence.Children.Count == 0)
            {
                Error(node, "windows", "expected a list of windows, e.g. [{days: [mon-fri], from: \"09:00\", to: \"17:00\", timeZone: Europe/Berlin}]");
                return windows;
            }
            if (sequence.Children.Count > MostWindows)
            {
                Error(node, "windows", $"at most {MostWindows} windows");
                return windows;
            }
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                if (Window(sequence.Children[i], $"windows[{i}]") is { } window)
                {
                    windows.Add(window);
                }
            }
            return windows;
        }

        PromotionWindow? Window(YamlNode node, string path)
        {
            var fields = Fields(node, path, ["days", "from", "to", "timeZone"]);
            var days = fields.TryGetValue("days", out var daysNode) ? Days(daysNode, $"{path}.days") : [.. Enum.GetValues<DayOfWeek>()];
            var from = Required(fields, node, "from", path, TimeOfDay);
            var to = Required(fields, node, "to", path, TimeOfDay);
            var zone = Required(fields, node, "timeZone", path, Zone);
            if (from is { } start && to is { } end && end <= start)
            {
                Error(fields["to"], $"{path}.to", "must be later in the day than from (a window ends on the day it starts; use two windows to cross midnight)");
            }
            return days is not null && from is { } f && to is { } t && zone is not null ? new PromotionWindow(days, f, t, zone) : null;
        }

        HashSet<DayOfWeek>? Days(YamlNode node, string path)
        {
            if (node is not YamlSequenceNode sequence || sequence.Children.Count == 0 || sequence.Children.Count > 7)
            {
                Error(node, path, $"expected a list of 1 to 7 days, each {PromotionWindowDays.Rule}");
                return null;
            }
            var days = new HashSet<DayOfWeek>();
            for (var i = 0; i < sequence.Children.Count; i++)
            {
                if (Text(sequence.Children[i], $"{path}[{i}]") is { } text && !PromotionWindowDays.TryAdd(text.ToLowerInvariant(), days))
                {
                    Error(sequence.Children[i], $"{path}[{i}]", $"'{text}' is not {PromotionWindowDays.Rule}");
                }
            }
            return days;
        }

        TimeSpan? TimeOfDay(YamlNode node, string path)
        {
            var text = Text(node, path);
            if (text is null)
            {
                return null;
            }
            if (text == "24:00")
            {
                return TimeSpan.FromDays(1);
            }
            return TimeSpan.TryParseExact(text, @"hh\:mm", CultureInfo.InvariantCulture, out var time) && time < TimeSpan.FromDays(1)
                ? time
                : Invalid<TimeSpan>(node, path, $"'{text}' is not a time of day (HH:mm, 00:00 to 24:00)");
        }

        TimeZoneInfo? Zone(YamlNode node, string path)
        {
            var text = Text(node, path);
            if (text is null)
            {
                return null;
            }
            if (text.Length <= 64 && TimeZoneInfo.TryFindSystemTimeZoneById(text, out var zone))
            {
                return zone;
            }
            Error(node, path, $"'{text}' is not a time zone this machine knows (an IANA name such as Europe/Berlin or UTC)");
            return null;
        }
    }
}
