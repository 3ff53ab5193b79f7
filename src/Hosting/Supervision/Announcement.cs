using System.Text.Json;
using System.Text.Json.Nodes;

namespace Streaming.Hosting.Supervision;

/// <summary>
/// What a supervised process announces once it is ready (a JSON file at the path in <c>STREAMING_ANNOUNCE</c>): its
/// <see cref="Endpoints"/>, merged into <c>endpoints.json</c>, and the <see cref="Environment"/> the processes started
/// after it need (e.g. <c>Kafka__BootstrapServers</c>).
/// </summary>
public sealed record Announcement(JsonObject Endpoints, IReadOnlyDictionary<string, string> Environment)
{
    public const string FileVariable = "STREAMING_ANNOUNCE";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes the announcement where the supervisor looks for it; false when no supervisor asked for one.</summary>
    public bool Publish()
    {
        if (System.Environment.GetEnvironmentVariable(FileVariable) is not { Length: > 0 } path)
        {
            return false;
        }
        var environment = new JsonObject();
        foreach (var (name, value) in Environment)
        {
            environment[name] = value;
        }
        var content = new JsonObject { ["endpoints"] = Endpoints.DeepClone(), ["environment"] = environment };
        AtomicFile.WriteAllText(path, content.ToJsonString(Indented));
        return true;
    }

    /// <summary>Reads an announcement; null while there is none yet.</summary>
    public static Announcement? Read(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        var content = JsonNode.Parse(text) as JsonObject
            ?? throw new InvalidDataException($"{path}: an announcement must be a JSON object");
        var endpoints = content["endpoints"] as JsonObject ?? new JsonObject();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        if (content["environment"] is JsonObject variables)
        {
            foreach (var (name, value) in variables)
            {
                environment[name] = value?.GetValue<string>() ?? "";
            }
        }
        return new Announcement((JsonObject)endpoints.DeepClone(), environment);
    }
}
