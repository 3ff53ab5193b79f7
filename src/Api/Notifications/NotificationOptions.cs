namespace Streaming.Api.Notifications;

/// <summary>
/// Who is told what (configuration section <c>Notifications</c>, or a JSON file named by <c>Notifications:File</c>):
/// the rules, the webhooks they go to, and how deliveries are retried.
/// </summary>
public sealed class NotificationOptions
{
    public const string Section = "Notifications";

    /// <summary>Whether this process derives notifications and delivers them (several API instances may; they take turns).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A JSON file with a <c>Notifications</c> section, read over the other configuration sources.</summary>
    public string File { get; set; } = "";

    /// <summary>How often the rules over the fleet's flags, the dead-letter rate and the lag are checked.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Events of the log recorded longer ago than this when the fold reaches them are history, not news: the first start
    /// on a store with a past, or a process that was down for longer, does not tell them.
    /// </summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// How long a periodic condition that fired must stay back under its threshold before it is told resolved (a breaker
    /// is resolved when it closes): one flapping around its threshold is not told at each dip.
    /// </summary>
    public TimeSpan ResolveAfter { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Delivered and failed notifications older than this (and their deliveries) are deleted; undelivered ones never.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(14);

    public NotificationRules Rules { get; set; } = new();

    /// <summary>Where notifications go; none: they are recorded and shown by the API only.</summary>
    public List<WebhookOptions> Webhooks { get; set; } = [];

    public DeliveryOptions Delivery { get; set; } = new();

    /// <summary>What is wrong with the options, if anything.</summary>
    public IEnumerable<string> Problems()
    {
        if (CheckInterval <= TimeSpan.Zero || MaxAge <= TimeSpan.Zero)
        {
            yield return "Notifications:CheckInterval and Notifications:MaxAge must be positive";
        }
        if (ResolveAfter < TimeSpan.Zero || Retention <= TimeSpan.Zero)
        {
            yield return "Notifications:ResolveAfter must be zero or more and Notifications:Retention positive";
        }
        foreach (var problem in Rules.Problems().Concat(Delivery.Problems()))
        {
            yield return problem;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Webhooks.Count; i++)
        {
            foreach (var problem in Webhooks[i].Problems($"Notifications:Webhooks:{i}"))
            {
                yield return problem;
            }
            if (!names.Add(Webhooks[i].Name))
            {
                yield return $"Notifications:Webhooks:{i}:Name '{Webhooks[i].Name}' is used twice";
            }
        }
    }
}
