using System.Diagnostics;
using System.Text.Json.Nodes;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>The <c>streaming</c> tool, run as a process against the same store the API serves.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class CommandLineTests(SurfaceSystem system)
{
    static readonly string Tool = Path.Combine(RepositoryRoot.Path, "src", "Cli", "bin", "Release", "net10.0", "linux-x64", "streaming.dll");

    async Task<(int Exit, string Out, string Error)> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Tool);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.ArgumentList.Add("--connection");
        start.ArgumentList.Add(system.Pipeline.ConnectionString);
        start.Environment.Remove("ConnectionStrings__EventStore");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }

    [Fact]
    public async Task History_and_state_as_of_a_time_print_json_and_an_unknown_job_exits_non_zero()
    {
        var (exit, output, _) = await RunAsync("history", SurfaceSystem.Promoted, "--limit", "5", "--json");
        Assert.Equal(0, exit);
        var events = JsonNode.Parse(output)!.AsArray();
        Assert.Equal(5, events.Count);
        Assert.True(events[0]!["version"]!.GetValue<long>() > events[4]!["version"]!.GetValue<long>());

        (exit, output, _) = await RunAsync("state", SurfaceSystem.Promoted, "--as-of", SignalFactory.Start.AddMinutes(20).ToString("O"), "--json");
        Assert.Equal(0, exit);
        var state = JsonNode.Parse(output)!;
        Assert.Equal(("shadow", 21), (state["assignedPhase"]!.GetValue<string>(), state["events"]!.GetValue<int>()));
        (exit, output, _) = await RunAsync("state", SurfaceSystem.Promoted, "--as-of", SignalFactory.Start.AddMinutes(39).ToString("O"), "--json");
        Assert.Equal("reverse_shadow", JsonNode.Parse(output)!["assignedPhase"]!.GetValue<string>());

        var (missing, json, error) = await RunAsync("state", "no-such-job", "--as-of", SignalFactory.Start.ToString("O"), "--json");
        Assert.Equal(1, missing);
        Assert.Contains("no-such-job", JsonNode.Parse(json)!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("no-such-job", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_streams_the_filtered_events_as_jsonl_and_csv()
    {
        var folder = Directory.CreateTempSubdirectory("streaming-export-").FullName;
        try
        {
            var jsonl = Path.Combine(folder, "events.jsonl");
            var (exit, output, _) = await RunAsync("export", "--job", SurfaceSystem.Stuck, "--type", "signal-recorded/v1", "--to",
                SignalFactory.Start.AddMinutes(50).ToString("O"), "--output", jsonl, "--json");
            Assert.Equal(0, exit);
            Assert.Equal(50, JsonNode.Parse(output)!["events"]!.GetValue<long>());
            var lines = await File.ReadAllLinesAsync(jsonl);
            Assert.Equal(50, lines.Length);
            Assert.All(lines, line => Assert.Equal(SurfaceSystem.Stuck, JsonNode.Parse(line)!["streamId"]!.GetValue<string>()));

            var csv = Path.Combine(folder, "decisions.csv");
            (exit, _, _) = await RunAsync("export", "--label", "team=tests", "--type", PhaseChanged.EventType, "--format", "csv", "--output", csv);
            Assert.Equal(0, exit);
            var rows = await File.ReadAllLinesAsync(csv);
            Assert.StartsWith("global_position,stream_id,version,type", rows[0], StringComparison.Ordinal);
            Assert.Contains(rows, r => r.Contains(SurfaceSystem.Promoted, StringComparison.Ordinal) && r.Contains("phase-changed/v1", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task An_override_from_the_tool_is_the_same_event_the_api_writes_and_misuse_exits_non_zero()
    {
        var (exit, output, _) = await RunAsync("override", "release", SurfaceSystem.Hostile, "--reason", "from the tool", "--by", "carol", "--json");
        Assert.Equal(0, exit);
        var id = JsonNode.Parse(output)!["overrideId"]!.GetValue<Guid>();
        await using var command = system.Database.CreateCommand("select type, data from es.events where event_id = $1");
        command.Parameters.AddWithValue(id);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(OverrideSet.EventType, reader.GetString(0));
        var set = ContractsJson.Deserialize<OverrideSet>(reader.GetString(1));
        Assert.Equal(("release", "carol", "from the tool"), (set.Kind, set.Actor, set.Reason));

        Assert.NotEqual(0, (await RunAsync("override", "hold", SurfaceSystem.Hostile)).Exit);
        Assert.NotEqual(0, (await RunAsync("override", "hold", SurfaceSystem.Hostile, "--reason", "x", "--for", "soon")).Exit);
        var (validate, _, errors) = await RunAsync("policy", "validate", Path.Combine(RepositoryRoot.Path, "README.md"));
        Assert.Equal(2, validate);
        Assert.NotEmpty(errors);
    }
}
