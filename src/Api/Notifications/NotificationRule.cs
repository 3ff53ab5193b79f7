namespace Streaming.Api.Notifications;

/// <summary>
/// One rule: whether it is on, the threshold that makes it fire (its unit depends on the rule: jobs, messages a
/// second, seconds, messages), and the least time between two of its notifications for the same subject.
/// </summary>
public sealed class NotificationRule
{
    public bool Enabled { get; set; } = true;

    public double Threshold { get; set; } = 1;

    public TimeSpan CoolDown { get; set; } = TimeSpan.FromMinutes(15);

    public static NotificationRule Of(double threshold, TimeSpan coolDown) => new() { Threshold = threshold, CoolDown = coolDown };
}
