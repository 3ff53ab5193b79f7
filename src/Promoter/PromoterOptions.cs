namespace Streaming.Promoter;

/// <summary>Where the Promoter finds its policy documents (configuration section <c>Promoter</c>).</summary>
public sealed class PromoterOptions
{
    public const string Section = "Promoter";

    /// <summary>
    /// A folder of policy documents (<c>*.yaml</c>), published when they change; a document that fails validation is
    /// logged with its errors and the last good version stays in force. Empty: the <c>policies</c> folder beside the program.
    /// </summary>
    public string PolicyDirectory { get; set; } = "";

    /// <summary>How often the folder is looked at again.</summary>
    public TimeSpan PolicyScanInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A batch of phase changes a broker has not confirmed within this long counts as an outage and is published again.</summary>
    public TimeSpan RelayPublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Who decides the waves' slots and the circuit breakers: <c>auto</c> (the default: the owner of the control partition when Promoters share the
    /// log, <c>Promoter:Ownership:Enabled</c>, or the store has several shards; else this Promoter), <c>local</c> or <c>owner</c>.
    /// </summary>
    public string Admissions { get; set; } = "auto";

    /// <summary>
    /// How soon after its last write the Promoter writes its changed job states, with its checkpoint, under load (at
    /// most six times this); a log quiet for a second (or for this, if shorter) has them written at once. The states
    /// serve restarts only: a longer interval writes less and folds more again after a crash.
    /// </summary>
    public TimeSpan StateWriteInterval { get; set; } = TimeSpan.FromSeconds(5);

    public string ResolvedPolicyDirectory =>
        string.IsNullOrEmpty(PolicyDirectory) ? Path.Combine(AppContext.BaseDirectory, "policies") : PolicyDirectory;
}
