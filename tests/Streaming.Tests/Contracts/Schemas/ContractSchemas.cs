using System.Text.Json;
using Json.Schema;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Contracts.Schemas;

/// <summary>
/// The JSON Schemas in <c>contracts/schemas</c> (the wire contracts, and <c>events/</c>: one per stored event type), built
/// once into a registry of their own so their <c>$ref</c>s resolve to each other, and a check of a JSON text against one.
/// </summary>
public static class ContractSchemas
{
    public static readonly string Folder = Path.Combine(RepositoryRoot.Path, "contracts", "schemas");

    static readonly Lazy<IReadOnlyDictionary<string, JsonSchema>> Built = new(Build);

    static readonly EvaluationOptions Strict = new() { OutputFormat = OutputFormat.List, RequireFormatValidation = true };

    /// <summary>The schema file of a stored event type: <c>phase-changed/v1</c> is <c>events/phase-changed.v1.json</c>.</summary>
    public static string EventSchemaFile(string eventType) => Path.Combine("events", eventType.Replace('/', '.') + ".json");

    /// <summary>What is wrong with <paramref name="json"/> by the schema in <paramref name="file"/> (relative to the folder); empty when it is valid.</summary>
    public static IReadOnlyList<string> Errors(string file, string json)
    {
        var schema = Built.Value.TryGetValue(file, out var found) ? found : throw new FileNotFoundException($"no schema {file} in {Folder}");
        using var instance = JsonDocument.Parse(json);
        var results = schema.Evaluate(instance.RootElement, Strict);
        return results.IsValid
            ? []
            : [.. (results.Details ?? []).Append(results).Where(r => r.Errors is { Count: > 0 })
                .SelectMany(r => r.Errors!.Select(e => $"{r.InstanceLocation}: {e.Key}: {e.Value}")).Distinct()];
    }

    static IReadOnlyDictionary<string, JsonSchema> Build()
    {
        var options = new BuildOptions { SchemaRegistry = new SchemaRegistry() };
        // Schemas that others refer to first, so every $ref finds its target already registered.
        var files = Directory.GetFiles(Folder, "*.json", SearchOption.AllDirectories)
            .OrderBy(f => File.ReadAllText(f).Contains("\"$ref\"", StringComparison.Ordinal))
            .ThenBy(f => f, StringComparer.Ordinal);
        var built = new Dictionary<string, JsonSchema>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            built[Path.GetRelativePath(Folder, file)] = JsonSchema.FromText(File.ReadAllText(file), options);
        }
        return built;
    }
}
