namespace Streaming.Lifecycle;

/// <summary>The policies that ship with the system, read from the documents in <c>policies/</c> built into this assembly.</summary>
public static class DefaultPolicies
{
    public const string CdcMigrationName = "cdc-migration";

    /// <summary>The text of <c>policies/cdc-migration.yaml</c>.</summary>
    public static string CdcMigrationText { get; } = Read("policies/cdc-migration.yaml");

    /// <summary><c>cdc-migration</c> as its first published version: shadow → reverse_shadow → cleanup → done.</summary>
    public static LifecyclePolicy CdcMigration { get; } = Parse(CdcMigrationText);

    static LifecyclePolicy Parse(string text)
    {
        var parsed = PolicyDocument.Parse(text, 1);
        return parsed.Policy ?? throw new InvalidOperationException(
            "the built-in policy document is invalid: " + string.Join("; ", parsed.Errors));
    }

    static string Read(string name)
    {
        using var stream = typeof(DefaultPolicies).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"resource {name} is missing from {typeof(DefaultPolicies).Assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
