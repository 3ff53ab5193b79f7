namespace Streaming.Api.Notifications;

/// <summary>
/// The rules, by name. Breakers and quarantines are events of the log (each told once, in event time); the flag rules
/// count jobs newly flagged since they were last told about; dead letters and lag are rates sampled from the pipeline.
/// </summary>
public sealed class NotificationRules
{
    public const string BreakerOpenedName = "breaker-opened";
    public const string QuarantinedName = "quarantined";
    public const string StuckName = "stuck";
    public const string DriftedName = "drifted";
    public const string PoisonedName = "poisoned";
    public const string SilentName = "silent";
    public const string DeadLettersName = "dead-letters";
    public const string FoldLagName = "fold-lag";
    public const string ConsumerLagName = "consumer-lag";

    /// <summary>A circuit breaker opened (by its rule or tripped by hand); the cool-down is per policy and phase, in event time.</summary>
    public NotificationRule BreakerOpened { get; set; } = NotificationRule.Of(1, TimeSpan.Zero);

    /// <summary>A decision quarantined a job; the cool-down is per job, in event time.</summary>
    public NotificationRule Quarantined { get; set; } = NotificationRule.Of(1, TimeSpan.Zero);

    /// <summary>At least <c>Threshold</c> jobs newly flagged <c>stuck</c>.</summary>
    public NotificationRule Stuck { get; set; } = NotificationRule.Of(1, TimeSpan.FromMinutes(15));

    /// <summary>At least <c>Threshold</c> jobs newly flagged <c>drifted</c>.</summary>
    public NotificationRule Drifted { get; set; } = NotificationRule.Of(1, TimeSpan.FromMinutes(15));

    /// <summary>At least <c>Threshold</c> jobs newly flagged <c>poisoned</c>.</summary>
    public NotificationRule Poisoned { get; set; } = NotificationRule.Of(1, TimeSpan.FromMinutes(15));

    /// <summary>At least <c>Threshold</c> jobs newly flagged <c>silent</c> (the flag a policy's silence threshold sets).</summary>
    public NotificationRule Silent { get; set; } = NotificationRule.Of(1, TimeSpan.FromMinutes(15));

    /// <summary>Messages a second reaching the dead-letter topic, at least.</summary>
    public NotificationRule DeadLetters { get; set; } = NotificationRule.Of(1, TimeSpan.FromMinutes(15));

    /// <summary>Seconds the slowest fold is behind the log, at least.</summary>
    public NotificationRule FoldLag { get; set; } = NotificationRule.Of(300, TimeSpan.FromMinutes(30));

    /// <summary>Signals on the broker Ingest has not stored yet, at least.</summary>
    public NotificationRule ConsumerLag { get; set; } = NotificationRule.Of(100_000, TimeSpan.FromMinutes(30));

    /// <summary>The flag rules: the rule's name is the flag it counts.</summary>
    public IEnumerable<(string Name, NotificationRule Rule)> FlagRules() =>
        [(StuckName, Stuck), (DriftedName, Drifted), (PoisonedName, Poisoned), (SilentName, Silent)];

    public IEnumerable<(string Name, NotificationRule Rule)> All() =>
        [(BreakerOpenedName, BreakerOpened), (QuarantinedName, Quarantined), .. FlagRules(),
         (DeadLettersName, DeadLetters), (FoldLagName, FoldLag), (ConsumerLagName, ConsumerLag)];

    public static IReadOnlyList<string> Names { get; } = [.. new NotificationRules().All().Select(r => r.Name)];

    public IEnumerable<string> Problems() =>
        All().Where(r => r.Rule.Threshold <= 0 || r.Rule.CoolDown < TimeSpan.Zero)
            .Select(r => $"Notifications:Rules: {r.Name} needs a positive Threshold and a CoolDown of zero or more");
}
