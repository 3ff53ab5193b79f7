using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

[Collection(SurfaceCollection.Name)]
public sealed class ApiTests(SurfaceSystem system)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Without_a_token_every_read_is_401_problem_json_and_health_and_openapi_stay_open()
    {
        using var anonymous = system.Client();
        var response = await anonymous.GetAsync("/api/v1/fleet/summary");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Bearer", (await response.Content.ReadFromJsonAsync<JsonObject>())!["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        using var wrong = new HttpClient { BaseAddress = system.BaseUrl };
        wrong.DefaultRequestHeaders.Authorization = new("Bearer", "stk_not-a-token");
        var refused = await wrong.GetAsync("/api/v1/jobs");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("not known", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health/live")).StatusCode);
        var openApi = await anonymous.GetFromJsonAsync<JsonObject>("/openapi/v1.json");
        Assert.NotNull(openApi!["paths"]!["/api/v1/jobs/{jobId}/overrides"]);
        Assert.NotNull(openApi["paths"]!["/api/v1/fleet/summary"]);
    }

    [Fact]
    public async Task A_viewer_reads_but_a_write_gets_403_naming_the_role_needed_and_nothing_is_written()
    {
        using var viewer = system.Client("viewer");
        var before = await system.CountAsync("select count(*) from es.events where stream_id = 'web-stuck' and type = 'override-set/v1'");
        var response = await viewer.PostAsJsonAsync("/api/v1/jobs/web-stuck/overrides", new { kind = "hold", reason = "I am only a viewer" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("operator role", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(before, await system.CountAsync("select count(*) from es.events where stream_id = 'web-stuck' and type = 'override-set/v1'"));

        using var operatorClient = system.Client("operator");
        var publish = await operatorClient.PostAsJsonAsync("/api/v1/policies", new { text = "name: x" });
        Assert.Equal(HttpStatusCode.Forbidden, publish.StatusCode);
        Assert.Contains("admin role", await publish.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"kind":"freeze","reason":"x"}""", "kind")]
    [InlineData("""{"kind":"hold","reason":"  "}""", "reason")]
    [InlineData("""{"kind":"hold","reason":"audit","for":"soon"}""", "for")]
    [InlineData("""{"kind":"force-promote","reason":"audit","for":"2h"}""", "for")]
    [InlineData("""{"kind":"pin","reason":"audit","phase":"orbit"}""", "phase")]
    [InlineData("""{"kind":"hold","reason":17}""", "reason")]
    [InlineData("""{"kind":"hold",""", "body")]
    public async Task A_bad_override_gets_400_problem_json_naming_the_field_and_writes_nothing(string body, string field)
    {
        using var operatorClient = system.Client("operator");
        var before = await system.CountAsync("select count(*) from es.events where stream_id = 'web-stuck'");
        var response = await operatorClient.PostAsync("/api/v1/jobs/web-stuck/overrides", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.NotNull(problem["errors"]![field]);
        Assert.StartsWith(field + ":", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await system.CountAsync("select count(*) from es.events where stream_id = 'web-stuck'"));
    }

    [Fact]
    public async Task An_override_through_the_api_is_the_command_lines_event_with_the_token_holder_as_actor()
    {
        using var operatorClient = system.Client("operator");
        var response = await operatorClient.PostAsJsonAsync("/api/v1/jobs/web-promoted/overrides", new { kind = "hold", reason = "checksum audit", @for = "4h" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var set = (await response.Content.ReadFromJsonAsync<OverrideSet>(ContractsJson.Default.OverrideSet))!;

        await using var command = system.Database.CreateCommand("select data from es.events where stream_id = 'web-promoted' and type = $1 and event_id = $2");
        command.Parameters.AddWithValue(OverrideSet.EventType);
        command.Parameters.AddWithValue(set.OverrideId);
        var stored = ContractsJson.Deserialize<OverrideSet>((string)(await command.ExecuteScalarAsync())!);
        Assert.Equal(("hold", "operator", "checksum audit", TimeSpan.FromHours(4)), (stored.Kind, stored.Actor, stored.Reason, stored.ExpiresAt!.Value - stored.SetAt));

        // And the job's detail shows who holds it once the Promoter has carried it out
        using var viewer = system.Client("viewer");
        var detail = await Eventually.Get(() => viewer.GetFromJsonAsync<JsonObject>("/api/v1/jobs/web-promoted")!, d => d!["overrideInForce"] is not null, Timeout, "the hold in the job's row");
        Assert.Equal("operator", detail!["overrideInForce"]!["actor"]!.GetValue<string>());
        Assert.Contains("held", detail["flags"]!.AsArray().Select(f => f!.GetValue<string>()));
    }

    [Fact]
    public async Task Secret_looking_labels_are_masked_in_the_list_the_detail_and_the_history_while_markup_is_returned_as_data()
    {
        using var viewer = system.Client("viewer");
        var detail = await viewer.GetStringAsync("/api/v1/jobs/web-hostile");
        var list = await viewer.GetStringAsync("/api/v1/jobs?prefix=web-hostile");
        // The whole history: other tests of this system write overrides to the job, which would push its signals off a short page
        var history = await viewer.GetStringAsync("/api/v1/jobs/web-hostile/history?limit=1000");
        foreach (var answer in new[] { detail, list, history })
        {
            Assert.DoesNotContain(SurfaceSystem.Password, answer, StringComparison.Ordinal);
            Assert.Contains(SecretLabels.Mask, JsonNode.Parse(answer)!.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }), StringComparison.Ordinal);
        }
        Assert.Equal(SurfaceSystem.HostileLabel, JsonNode.Parse(detail)!["labels"]!["team"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_jobs_list_pages_by_keyset_through_every_job_once_and_filters_by_flag_and_label()
    {
        using var viewer = system.Client("viewer");
        var seen = new List<string>();
        string? cursor = null;
        do
        {
            var page = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/jobs?prefix=web-&limit=1&sort=since&order=desc" + (cursor is null ? "" : "&cursor=" + cursor)))!;
            seen.AddRange(page["jobs"]!.AsArray().Select(j => j!["jobId"]!.GetValue<string>()));
            cursor = page["next"]?.GetValue<string>();
        }
        while (cursor is not null);
        Assert.Equal(3, seen.Count);
        Assert.Equal(3, seen.Distinct().Count());

        var stuck = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/jobs?flag=stuck"))!;
        Assert.Equal([SurfaceSystem.Stuck], stuck["jobs"]!.AsArray().Select(j => j!["jobId"]!.GetValue<string>()));
        var labelled = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/jobs?count=true&label=" + Uri.EscapeDataString("team=" + SurfaceSystem.HostileLabel)))!;
        Assert.Equal(1, labelled["total"]!.GetValue<long>());

        var bad = await viewer.GetAsync("/api/v1/jobs?sort=colour");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("sort", (await bad.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task A_stuck_jobs_detail_names_the_blocking_criterion_with_its_value_and_thresholds()
    {
        using var viewer = system.Client("viewer");
        var detail = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/jobs/web-stuck"))!;
        Assert.Equal("shadow", detail["assignedPhase"]!.GetValue<string>());
        Assert.StartsWith("checksum_mismatch_rate max = 0.02 fails ≤ 0.001", detail["blocking"]!.GetValue<string>(), StringComparison.Ordinal);
        var checksum = detail["promote"]!.AsArray().Single(c => c!["metric"]!.GetValue<string>() == "checksum_mismatch_rate")!;
        Assert.Equal((0.001, 0.02, "fail"), (checksum["threshold"]!.GetValue<double>(), checksum["value"]!.GetValue<double>(), checksum["verdict"]!.GetValue<string>()));
        Assert.True(detail["soak"]!["met"]!.GetValue<bool>());

        var summary = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/fleet/summary"))!;
        var stuck = summary["attention"]!["stuck"]!.AsArray().Single(j => j!["jobId"]!.GetValue<string>() == SurfaceSystem.Stuck)!;
        Assert.Contains("checksum_mismatch_rate", stuck["reason"]!.GetValue<string>(), StringComparison.Ordinal);

        var series = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/jobs/web-stuck/series"))!;
        var line = series["lines"]!.AsArray().First(l => l!["metric"]!.GetValue<string>() == "checksum_mismatch_rate")!;
        Assert.Equal(0.001, line["promoteThreshold"]!.GetValue<double>());
        Assert.Equal(series["times"]!.AsArray().Count, line["values"]!.AsArray().Count);
    }

    [Fact]
    public async Task The_decision_feed_and_fleet_history_hold_the_promotion()
    {
        using var viewer = system.Client("viewer");
        var feed = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/decisions?direction=promote&policy=cdc-migration"))!;
        var decision = feed["decisions"]!.AsArray().Single(d => d!["jobId"]!.GetValue<string>() == SurfaceSystem.Promoted)!;
        Assert.Equal(("shadow", "reverse_shadow"), (decision["from"]!.GetValue<string>(), decision["to"]!.GetValue<string>()));
        Assert.Equal(SignalFactory.Start.AddMinutes(30), decision["decidedAt"]!.GetValue<DateTimeOffset>());
        Assert.Empty((await viewer.GetFromJsonAsync<JsonObject>("/api/v1/decisions?direction=demote"))!["decisions"]!.AsArray());

        // Other tests of this system promote jobs too: the history counts every promotion the unfiltered feed holds
        var promotionsDecided = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/decisions?direction=promote&limit=500"))!["decisions"]!.AsArray().Count;
        Assert.True(promotionsDecided >= 1);
        var history = await Eventually.Get(
            () => viewer.GetFromJsonAsync<JsonObject>("/api/v1/fleet/history?hours=2160")!,
            h => Promotions(h!) == promotionsDecided, Timeout, $"{promotionsDecided} promotions in the fleet history");
        Assert.Contains("reverse_shadow", history!["phases"]!.AsArray().Select(p => p!["phase"]!.GetValue<string>()));
    }

    static int Promotions(JsonObject history) =>
        history["moves"]!.AsArray().Where(m => m!["direction"]!.GetValue<string>() == "promote").SelectMany(m => m!["moves"]!.AsArray()).Sum(v => v!.GetValue<int>());

    [Fact]
    public async Task Tokens_are_kept_in_a_0600_file_and_stored_only_as_digests()
    {
        Assert.True(OperatingSystem.IsLinux() && File.GetUnixFileMode(system.TokensFile) == (UnixFileMode.UserRead | UnixFileMode.UserWrite));
        Assert.Equal(["admin", "operator", "viewer"], system.Tokens.Keys.Order());
        foreach (var (role, token) in system.Tokens)
        {
            await using var command = system.Database.CreateCommand("select name, role from api.tokens where token_sha256 = $1");
            command.Parameters.AddWithValue(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(role, reader.GetString(1));
        }
        Assert.Equal(0, await system.CountAsync(
            $"select count(*) from api.tokens t where position('{system.Tokens["admin"]}' in t::text) > 0 or position('{system.Tokens["admin"]}' in encode(t.token_sha256, 'escape')) > 0"));
    }

    [Fact]
    public async Task An_invalid_policy_is_refused_with_line_column_and_field_and_a_valid_one_is_published_by_the_admin()
    {
        using var admin = system.Client("admin");
        var text = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Path, "policies", "cdc-migration.yaml"));
        var broken = text.Replace("after: 3", "after: zero", StringComparison.Ordinal);
        var refused = await admin.PostAsJsonAsync("/api/v1/policies", new { text = broken, shadow = true });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problem = (await refused.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains(problem["errors"]!.AsObject(), e => e.Key.EndsWith(".promote.after", StringComparison.Ordinal));
        Assert.Matches("line \\d+, column \\d+", problem["detail"]!.GetValue<string>());

        var published = await admin.PostAsJsonAsync("/api/v1/policies", new { text = text.Replace("name: cdc-migration", "name: cdc-shadow-candidate", StringComparison.Ordinal), shadow = true });
        Assert.Equal(HttpStatusCode.Created, published.StatusCode);
        await using var command = system.Database.CreateCommand("select data from es.events where stream_id = 'shadow-policy:cdc-shadow-candidate'");
        Assert.Equal("admin", ContractsJson.Deserialize<PolicyPublished>((string)(await command.ExecuteScalarAsync())!).PublishedBy);
    }

    [Fact]
    public async Task Health_is_ready_and_metrics_are_prometheus_text_with_the_pipelines_and_npgsqls_instruments()
    {
        using var anonymous = system.Client();
        var ready = await Eventually.Get(() => anonymous.GetAsync("/health/ready"), r => r.StatusCode == HttpStatusCode.OK, Timeout, "readiness");
        Assert.Equal("ready", (await ready.Content.ReadFromJsonAsync<JsonObject>())!["status"]!.GetValue<string>());
        using var viewer = system.Client("viewer");
        var metrics = await Eventually.Get(() => viewer.GetStringAsync("/metrics"), m => m.Contains("streaming_fold_lag_events", StringComparison.Ordinal), Timeout, "the fold lag gauge");
        Assert.Contains("db_client_operation_duration_seconds", metrics, StringComparison.Ordinal);
        Assert.Contains("streaming_consumer_lag", metrics, StringComparison.Ordinal);
    }
}
