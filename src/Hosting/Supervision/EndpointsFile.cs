using System.Text.Json;
using System.Text.Json.Nodes;

namespace Streaming.Hosting.Supervision;

/// <summary>
/// <c>endpoints.json</c>: where a running system can be reached. Written atomically with the writer's process id and
/// removed by the writer when it stops; a file whose writer is gone is stale and says nothing.
/// </summary>
public static class EndpointsFile
{
    public const string PidField = "pid";

    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>Writes <paramref name="endpoints"/> and this process's id; returns the text written.</summary>
    public static string Write(string path, JsonObject endpoints)
    {
        var content = new JsonObject();
        foreach (var (name, value) in endpoints)
        {
            content[name] = value?.DeepClone();
        }
        content[PidField] = Environment.ProcessId;
        var json = content.ToJsonString(Indented);
        AtomicFile.WriteAllText(path, json + Environment.NewLine);
        return json;
    }

    /// <summary>
    /// Makes the file this process's to write: refuses (throws) while another running process owns it, and deletes one
    /// left by a process that is gone, returning what it said so the caller can report it.
    /// </summary>
    public static EndpointsFileState? Claim(string path)
    {
        var state = Inspect(path);
        if (state is null || state.Pid == Environment.ProcessId)
        {
            return null;
        }
        if (state.Live)
        {
            throw new InvalidOperationException(
                $"{path} belongs to process {state.Pid}, which is still running: another instance uses this data folder");
        }
        File.Delete(path);
        return state;
    }

    /// <summary>Removes the file if this process wrote it (a newer writer's file is left alone).</summary>
    public static void RemoveIfOwned(string path)
    {
        if (Inspect(path) is { Pid: var pid } && pid == Environment.ProcessId)
        {
            File.Delete(path);
        }
    }

    /// <summary>What the file at <paramref name="path"/> says, and whether its writer still runs; null when there is none.</summary>
    public static EndpointsFileState? Inspect(string path)
    {
        JsonObject? content;
        try
        {
            content = JsonNode.Parse(File.ReadAllText(path)) as JsonObject;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }
        catch (JsonException)
        {
            return new EndpointsFileState(new JsonObject(), 0, Live: false);
        }
        content ??= new JsonObject();
        var pid = content[PidField] is JsonValue value && value.TryGetValue<int>(out var number) ? number : 0;
        return new EndpointsFileState(content, pid, LiveProcess.IsRunning(pid));
    }

    /// <summary>The endpoints of a running system, or null when the file is missing or stale.</summary>
    public static JsonObject? ReadLive(string path) => Inspect(path) is { Live: true } state ? state.Content : null;
}
