using System.Text.Json.Nodes;

namespace Streaming.Api.Notifications;

/// <summary>
/// Something a rule found worth telling: its de-duplication key (one notification per key, ever), the rule, a severity
/// (<c>critical</c> or <c>warning</c>), a one-line title, a longer text, what it is about (a job, a breaker
/// <c>policy/phase</c>, a fold), when it happened (event time for events of the log, check time for rates) and details.
/// Titles and texts carry what jobs and people wrote as it is; each body escapes it for its format.
/// </summary>
public sealed record Notification(
    string Key,
    string Rule,
    string Severity,
    string Title,
    string Text,
    string? Subject,
    DateTimeOffset OccurredAt,
    JsonObject Details)
{
    public const string Critical = "critical";
    public const string Warning = "warning";
}
