using System.Text.Json.Nodes;

namespace Streaming.Api.Notifications;

/// <summary>
/// Something a rule found worth telling: its de-duplication key (one notification per key, ever), the rule, a severity
/// (<c>critical</c> or <c>warning</c>), a one-line title, a longer text, what it is about (a job, a breaker
/// <c>policy/phase</c>, a fold), when it happened (event time for events of the log, check time for rates), details,
/// and whether the condition is <c>firing</c> or <c>resolved</c> (then <see cref="Resolves"/> is the key of the
/// firing notification it ends). Titles and texts carry what jobs and people wrote as it is; each body escapes it.
/// </summary>
public sealed record Notification(
    string Key,
    string Rule,
    string Severity,
    string Title,
    string Text,
    string? Subject,
    DateTimeOffset OccurredAt,
    JsonObject Details,
    string Status = Notification.Firing,
    string? Resolves = null)
{
    public const string Critical = "critical";
    public const string Warning = "warning";

    public const string Firing = "firing";
    public const string Resolved = "resolved";

    public static IReadOnlyList<string> Statuses { get; } = [Firing, Resolved];

    /// <summary>The key of the notification that resolves the one keyed <paramref name="firingKey"/>: one per firing, ever.</summary>
    public static string ResolvedKey(string firingKey) => firingKey + ":resolved";
}
