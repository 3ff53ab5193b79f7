using System.Text.Json.Nodes;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>The <c>streaming</c> tool, run as a process against the same store the API serves.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class CommandLineTests(SurfaceSystem system)
{
    Task<(int Exit, string Out, string Error)> RunAsync(params string[] args) => RunAsync(new Dictionary<string, string>(), args);

    Task<(int Exit, string Out, string Error)> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args) =>
        StreamingTool.RunAsync(system.Pipeline.ConnectionString, environment, args);

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

    /// <summary>The API's address and a token of <paramref name="role"/> (one of the API's default tokens) in the environment.</summary>
    Dictionary<string, string> Through(string role) => new() { ["STREAMING_API_URL"] = system.BaseUrl.ToString(), ["STREAMING_API_TOKEN"] = system.Tokens[role] };

    async Task<OverrideSet> StoredOverrideAsync(Guid id)
    {
        await using var command = system.Database.CreateCommand("select type, data from es.events where event_id = $1");
        command.Parameters.AddWithValue(id);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(OverrideSet.EventType, reader.GetString(0));
        return ContractsJson.Deserialize<OverrideSet>(reader.GetString(1));
    }

    [Fact]
    public async Task An_override_from_the_tool_goes_through_the_api_as_the_holder_of_a_named_token_and_misuse_exits_non_zero()
    {
        // Given a token made for alice with the tool (direct database access: the bootstrap path), written to a file
        var folder = Directory.CreateTempSubdirectory("streaming-token-").FullName;
        try
        {
            var alice = "alice-" + Guid.NewGuid().ToString("N")[..8];
            var tokenFile = Path.Combine(folder, "alice.token");
            var (created, _, audit) = await RunAsync("token", "create", "--name", alice, "--role", "operator", "--output", tokenFile);
            Assert.Equal(0, created);
            Assert.True(OperatingSystem.IsLinux() && File.GetUnixFileMode(tokenFile) == (UnixFileMode.UserRead | UnixFileMode.UserWrite));
            Assert.Contains($"Audit: token created for {alice} with role operator by {Environment.UserName}", audit, StringComparison.Ordinal);
            Assert.DoesNotContain((await File.ReadAllTextAsync(tokenFile)).Trim(), audit, StringComparison.Ordinal);

            // When alice releases a job through the API with that token file
            var api = new Dictionary<string, string> { ["STREAMING_API_URL"] = system.BaseUrl.ToString() };
            var (exit, output, error) = await RunAsync(api, "override", "release", SurfaceSystem.Hostile, "--reason", "from the tool", "--token-file", tokenFile, "--json");
            Assert.True(exit == 0, error);

            // Then the event the API wrote names alice as the actor
            var set = await StoredOverrideAsync(JsonNode.Parse(output)!["overrideId"]!.GetValue<Guid>());
            Assert.Equal(("release", alice, "from the tool"), (set.Kind, set.Actor, set.Reason));

            // And when alice's tokens are revoked, the listing shows who revoked them, and her token is refused with 401
            var (revoked, _, revokeAudit) = await RunAsync("token", "revoke", "--name", alice);
            Assert.Equal(0, revoked);
            Assert.Contains($"Audit: 1 token(s) of {alice} revoked by {Environment.UserName}", revokeAudit, StringComparison.Ordinal);
            var (_, listing, _) = await RunAsync("token", "list", "--all", "--json");
            var entry = JsonNode.Parse(listing)!.AsArray().Single(t => t!["name"]!.GetValue<string>() == alice)!;
            Assert.Equal((Environment.UserName, Environment.UserName), (entry["createdBy"]!.GetValue<string>(), entry["revokedBy"]!.GetValue<string>()));
            await Eventually.True(async () => (await RunAsync(api, "override", "hold", SurfaceSystem.Hostile, "--reason", "after revocation", "--token-file", tokenFile)) is
                { Exit: 1 } refused && refused.Error.Contains("(401)", StringComparison.Ordinal), TimeSpan.FromSeconds(30), "the revoked token to be refused");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task A_viewer_gets_403_a_wrong_token_401_and_a_self_declared_actor_is_refused_each_with_the_apis_message_and_a_non_zero_exit()
    {
        var (exit, _, error) = await RunAsync(Through("viewer"), "override", "hold", SurfaceSystem.Hostile, "--reason", "viewers may not");
        Assert.Equal(1, exit);
        Assert.Contains("(403)", error, StringComparison.Ordinal);
        Assert.Contains("this needs the operator role; viewer has viewer", error, StringComparison.Ordinal);

        (exit, _, error) = await RunAsync(
            new Dictionary<string, string> { ["STREAMING_API_URL"] = system.BaseUrl.ToString(), ["STREAMING_API_TOKEN"] = "stk_not-a-token" },
            "known-issue", "open", "INC-CLI-1", "--title", "never opened", "--job", SurfaceSystem.Hostile);
        Assert.Equal(1, exit);
        Assert.Contains("(401)", error, StringComparison.Ordinal);
        Assert.Contains("the bearer token is not known or was revoked", error, StringComparison.Ordinal);
        Assert.DoesNotContain("stk_not-a-token", error, StringComparison.Ordinal);
        Assert.Equal(0, await system.CountAsync("select count(*) from es.streams where stream_id = 'known-issue:INC-CLI-1'"));

        (exit, _, error) = await RunAsync(Through("operator"), "override", "hold", SurfaceSystem.Hostile, "--reason", "x", "--by", "carol");
        Assert.Equal(2, exit);
        Assert.Contains("--by is no longer taken", error, StringComparison.Ordinal);

        (exit, _, error) = await RunAsync(Through("operator"), "override", "hold", SurfaceSystem.Hostile, "--reason", "x", "--for", "soon");
        Assert.Equal(2, exit);
        Assert.Contains("(400)", error, StringComparison.Ordinal);
        Assert.Contains("for: 'soon' is not a duration", error, StringComparison.Ordinal);

        (exit, _, error) = await RunAsync(new Dictionary<string, string> { ["STREAMING_API_URL"] = system.BaseUrl.ToString() },
            "override", "hold", SurfaceSystem.Hostile, "--reason", "no token");
        Assert.Equal(2, exit);
        Assert.Contains("needs a token", error, StringComparison.Ordinal);

        Assert.NotEqual(0, (await RunAsync(Through("operator"), "override", "hold", SurfaceSystem.Hostile)).Exit);
        var (validate, _, errors) = await RunAsync("policy", "validate", Path.Combine(RepositoryRoot.Path, "README.md"));
        Assert.Equal(2, validate);
        Assert.NotEmpty(errors);
    }

    [Fact]
    public async Task Known_issues_breakers_and_policies_from_the_tool_are_written_by_the_api_as_the_tokens_holder()
    {
        var issue = "INC-CLI-" + Guid.NewGuid().ToString("N")[..8];
        var (exit, output, error) = await RunAsync(Through("operator"), "known-issue", "open", issue, "--title", "from the tool", "--job", "web-nobody", "--json");
        Assert.True(exit == 0, error);
        Assert.Equal("operator", JsonNode.Parse(output)!["openedBy"]!.GetValue<string>());
        (exit, output, error) = await RunAsync(Through("operator"), "known-issue", "resolve", issue, "--reason", "fixed", "--json");
        Assert.True(exit == 0, error);
        Assert.Equal("operator", JsonNode.Parse(output)!["resolvedBy"]!.GetValue<string>());

        (exit, output, error) = await RunAsync(Through("operator"), "breaker", "reset", "cdc-migration", "reverse_shadow", "--reason", "checked", "--json");
        Assert.True(exit == 0, error);
        Assert.Equal("operator", JsonNode.Parse(output)!["actor"]!.GetValue<string>());

        // Publishing needs the admin role: an operator is refused, an admin's unchanged document is reported as such
        var policy = Path.Combine(RepositoryRoot.Path, "policies", "cdc-migration.yaml");
        (exit, _, error) = await RunAsync(Through("operator"), "policy", "publish", policy);
        Assert.Equal(1, exit);
        Assert.Contains("(403)", error, StringComparison.Ordinal);
        (exit, output, error) = await RunAsync(Through("admin"), "policy", "publish", policy, "--json");
        Assert.True(exit == 0, error);
        Assert.Equal(("unchanged", "cdc-migration"), (JsonNode.Parse(output)!["outcome"]!.GetValue<string>(), JsonNode.Parse(output)!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Pauses_resumptions_breaker_trips_and_approvals_from_the_tool_are_written_by_the_api_as_the_tokens_holder()
    {
        // Given a viewer, pausing is refused with the API's 403 and a non-zero exit
        var (exit, _, error) = await RunAsync(Through("viewer"), "pause", "--policy", "cdc-migration", "--reason", "viewers may not");
        Assert.Equal(1, exit);
        Assert.Contains("(403)", error, StringComparison.Ordinal);

        // When an operator pauses promotions into reverse_shadow and resumes them with the tool (a gate no other test pauses)
        var why = "cli-" + Guid.NewGuid().ToString("N")[..8];
        (exit, var output, error) = await RunAsync(Through("operator"), "pause", "--policy", "cdc-migration", "--phase", "reverse_shadow", "--reason", why, "--for", "2h", "--json");
        Assert.True(exit == 0, error);
        var pauseId = JsonNode.Parse(output)!["pauseId"]!.GetValue<Guid>();
        (exit, output, error) = await RunAsync(Through("operator"), "resume", "--policy", "cdc-migration", "--phase", "reverse_shadow", "--reason", why);
        Assert.True(exit == 0, error);
        Assert.Contains("promotions of cdc-migration into reverse_shadow resumed by operator", output, StringComparison.Ordinal);

        // Then the events the API stored name the token's holder as the actor
        Assert.Equal(1, await system.CountAsync(
            $"select count(*) from es.events where type = '{PromotionsPaused.EventType}' and data->>'pauseId' = '{pauseId}' and data->>'actor' = 'operator' and data->>'reason' = '{why}'"));
        Assert.Equal(1, await system.CountAsync(
            $"select count(*) from es.events where type = '{PromotionsResumed.EventType}' and stream_id = '{PromotionsPaused.StreamFor("cdc-migration", "reverse_shadow")}' and data->>'actor' = 'operator' and data->>'reason' = '{why}'"));

        // And a breaker tripped with the tool is opened by the Promoter as the operator's, then closed again with the tool
        (exit, output, error) = await RunAsync(Through("operator"), "breaker", "trip", "cdc-migration", "cleanup", "--reason", why, "--json");
        Assert.True(exit == 0, error);
        Assert.Equal(("operator", "cleanup"), (JsonNode.Parse(output)!["actor"]!.GetValue<string>(), JsonNode.Parse(output)!["phase"]!.GetValue<string>()));
        await Eventually.True(async () => await system.CountAsync(
                $"select count(*) from es.events where stream_id = 'breaker:cdc-migration:cleanup' and type = 'circuit-breaker-changed/v1' and data::text like '%tripped by operator: {why}%'") == 1,
            TimeSpan.FromSeconds(60), "the breaker to open");
        (exit, _, error) = await RunAsync(Through("operator"), "breaker", "reset", "cdc-migration", "cleanup", "--reason", why);
        Assert.True(exit == 0, error);

        // And approving a job that waits for no approval gets the API's 409 message and a non-zero exit
        (exit, _, error) = await RunAsync(Through("operator"), "approve", "job", SurfaceSystem.Promoted, "--reason", why);
        Assert.Equal(1, exit);
        Assert.Contains("(409)", error, StringComparison.Ordinal);
        Assert.Contains("is not waiting for approval", error, StringComparison.Ordinal);

        // And a dry-run batch only counts
        (exit, output, error) = await RunAsync(Through("operator"), "approve", "batch", "--policy", "no-such-policy", "--max", "5", "--dry-run");
        Assert.True(exit == 0, error);
        Assert.Contains("dry run: 0 job(s) waiting match batch: policy=no-such-policy; none approved", output, StringComparison.Ordinal);
    }
}
