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

    public string ResolvedPolicyDirectory =>
        string.IsNullOrEmpty(PolicyDirectory) ? Path.Combine(AppContext.BaseDirectory, "policies") : PolicyDirectory;
}
