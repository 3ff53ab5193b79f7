using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>Approval gates and the job page's evidence through the HTTP API.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class ApprovalApiTests(SurfaceSystem system)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    Task SeededAsync() => ApprovalSeed.EnsureAsync(system, Timeout);

    async Task<List<ApprovalGranted>> GrantsAsync(string job)
    {
        await using var command = system.Database.CreateCommand("select data from es.events where stream_id = $1 and type = $2 order by version");
        command.Parameters.AddWithValue(job);
        command.Parameters.AddWithValue(ApprovalGranted.EventType);
        var grants = new List<ApprovalGranted>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            grants.Add(ContractsJson.Deserialize<ApprovalGranted>(reader.GetString(0)));
        }
        return grants;
    }

    [Fact]
    public async Task A_job_waiting_for_approval_shows_its_evidence_and_its_approval_names_the_operator_once()
    {
        await SeededAsync();
        using var viewer = system.Client("viewer");
        var before = (await viewer.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{ApprovalSeed.One}/approvals"))!;
        var waiting = before["waiting"]!;
        Assert.Equal(("shadow", "reverse_shadow"), (waiting["from"]!.GetValue<string>(), waiting["to"]!.GetValue<string>()));
        Assert.Equal("pass", waiting["criteria"]![0]!["verdict"]!.GetValue<string>());
        Assert.Null(waiting["granted"]);

        // When an operator approves it
        using var operatorClient = system.Client("operator");
        var response = await operatorClient.PostAsJsonAsync($"/api/v1/jobs/{ApprovalSeed.One}/approve", new { reason = "evidence checked" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        // Then the approval is in the job's stream with the token's holder as actor, the row says approved, and a second approval is refused
        var grant = Assert.Single(await GrantsAsync(ApprovalSeed.One));
        Assert.Equal(("operator", "evidence checked", ApprovalGranted.OneJob, "shadow", "reverse_shadow"), (grant.Actor, grant.Reason, grant.Scope, grant.From, grant.To));
        await Eventually.True(async () => await system.CountAsync($"select count(*) from projections.job_states where job_id = '{ApprovalSeed.One}' and 'approved' = any(flags)") == 1,
            Timeout, "the row to say approved");
        var again = await operatorClient.PostAsJsonAsync($"/api/v1/jobs/{ApprovalSeed.One}/approve", new { reason = "twice" });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Single(await GrantsAsync(ApprovalSeed.One));
    }

    [Fact]
    public async Task A_batch_approval_counts_on_a_dry_run_refuses_more_than_its_cap_and_approves_what_its_selector_matches()
    {
        await SeededAsync();
        using var operatorClient = system.Client("operator");
        var selector = new { policy = "manual-gate", labels = new Dictionary<string, string> { ["team"] = "payments" } };

        // A dry run counts and lists the matching jobs and writes nothing
        var dry = await operatorClient.PostAsJsonAsync("/api/v1/approvals", new { selector.policy, selector.labels, max = 10, dryRun = true });
        Assert.Equal(HttpStatusCode.OK, dry.StatusCode);
        var counted = (await dry.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal((2, 0, true), (counted["matched"]!.GetValue<int>(), counted["approved"]!.GetValue<int>(), counted["dryRun"]!.GetValue<bool>()));
        Assert.Equal([ApprovalSeed.Payments1, ApprovalSeed.Payments2], counted["jobs"]!.AsArray().Select(j => j!.GetValue<string>()));
        Assert.Empty(await GrantsAsync(ApprovalSeed.Payments1));

        // More matching than the cap is refused whole
        var capped = await operatorClient.PostAsJsonAsync("/api/v1/approvals", new { selector.policy, selector.labels, max = 1, reason = "payments checked" });
        Assert.Equal(HttpStatusCode.Conflict, capped.StatusCode);
        Assert.Contains("more than max 1", await capped.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await GrantsAsync(ApprovalSeed.Payments1));

        // Within the cap, each matching job gets its approval, with the selector as its scope; the others none
        var batch = await operatorClient.PostAsJsonAsync("/api/v1/approvals", new { selector.policy, selector.labels, max = 2, reason = "payments checked" });
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        Assert.Equal(2, (await batch.Content.ReadFromJsonAsync<JsonObject>())!["approved"]!.GetValue<int>());
        foreach (var job in new[] { ApprovalSeed.Payments1, ApprovalSeed.Payments2 })
        {
            var grant = Assert.Single(await GrantsAsync(job));
            Assert.Equal(("operator", "batch: policy=manual-gate, label team=payments"), (grant.Actor, grant.Scope));
        }
        Assert.Empty(await GrantsAsync(ApprovalSeed.Search));
    }

    [Theory]
    [InlineData("/api/v1/jobs/gate-approve-search/approve", """{"reason":"  "}""", HttpStatusCode.BadRequest, "reason")]
    [InlineData("/api/v1/jobs/gate-approve-search/approve", """{"reason":"x",""", HttpStatusCode.BadRequest, "body")]
    [InlineData("/api/v1/jobs/web-stuck/approve", """{"reason":"not waiting"}""", HttpStatusCode.Conflict, null)]
    [InlineData("/api/v1/jobs/web-nobody/approve", """{"reason":"no such job"}""", HttpStatusCode.NotFound, null)]
    [InlineData("/api/v1/approvals", """{"reason":"x","phase":"shadow"}""", HttpStatusCode.BadRequest, "max")]
    [InlineData("/api/v1/approvals", """{"reason":"x","phase":"shadow","max":0}""", HttpStatusCode.BadRequest, "max")]
    [InlineData("/api/v1/approvals", """{"reason":"x","max":5}""", HttpStatusCode.BadRequest, "selector")]
    [InlineData("/api/v1/approvals", """{"reason":"x","labels":["team"],"max":5}""", HttpStatusCode.BadRequest, "labels")]
    [InlineData("/api/v1/approvals", """{"phase":"shadow","max":5}""", HttpStatusCode.BadRequest, "reason")]
    public async Task A_bad_approval_gets_a_4xx_problem_and_writes_nothing(string path, string body, HttpStatusCode status, string? field)
    {
        await SeededAsync();
        using var operatorClient = system.Client("operator");
        var before = await system.CountAsync("select count(*) from es.events where type = 'approval-granted/v1'");
        var response = await operatorClient.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        if (field is not null)
        {
            Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]![field]);
        }
        Assert.Equal(before, await system.CountAsync("select count(*) from es.events where type = 'approval-granted/v1'"));
    }

    [Fact]
    public async Task Approving_needs_the_operator_role_and_a_body_within_its_limit()
    {
        await SeededAsync();
        using var viewer = system.Client("viewer");
        var forbidden = await viewer.PostAsJsonAsync($"/api/v1/jobs/{ApprovalSeed.Search}/approve", new { reason = "I am only a viewer" });
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);

        using var operatorClient = system.Client("operator");
        var huge = await operatorClient.PostAsync("/api/v1/approvals",
            new StringContent($$"""{"reason":"{{new string('x', 40_000)}}","phase":"shadow","max":1}""", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, huge.StatusCode);
        Assert.Empty(await GrantsAsync(ApprovalSeed.Search));
    }

    [Fact]
    public async Task The_fleet_summary_and_the_jobs_list_count_the_jobs_waiting_per_gate()
    {
        await SeededAsync();
        using var viewer = system.Client("viewer");
        // The summary is a snapshot at most two seconds old
        var summary = await Eventually.Get(async () => (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/fleet/summary"))!,
            s => s["approvals"]!.AsArray().Any(g => g!["policy"]!.GetValue<string>() == "fleet-gate"), Timeout, "the gate in the summary");
        var gate = summary["approvals"]!.AsArray().Single(g => g!["policy"]!.GetValue<string>() == "fleet-gate")!;
        Assert.Equal(("shadow", "reverse_shadow"), (gate["from"]!.GetValue<string>(), gate["to"]!.GetValue<string>()));
        Assert.Equal(2, gate["waiting"]!.GetValue<int>() + gate["approved"]!.GetValue<int>());
        var page = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/jobs?flag=awaiting-approval&policy=fleet-gate&count=true"))!;
        Assert.Equal([ApprovalSeed.Fleet1, ApprovalSeed.Fleet2], page["jobs"]!.AsArray().Select(j => j!["jobId"]!.GetValue<string>()).Order());
    }

    [Fact]
    public async Task A_job_awaiting_acknowledgement_charts_the_criteria_of_the_gate_that_promoted_it_with_the_decision()
    {
        // web-promoted was promoted to reverse_shadow at minute 30 and still reports shadow
        using var viewer = system.Client("viewer");
        var series = (await viewer.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{SurfaceSystem.Promoted}/series"))!;
        Assert.Equal(("reverse_shadow", "shadow"), (series["phase"]!.GetValue<string>(), series["chartedPhase"]!.GetValue<string>()));
        Assert.Contains("not acknowledged yet", series["basis"]!.GetValue<string>(), StringComparison.Ordinal);
        var lines = series["lines"]!.AsArray();
        Assert.Equal(3, lines.Count);
        Assert.All(lines, l => Assert.Contains(l!["values"]!.AsArray(), v => v is not null));
        Assert.Contains(lines, l => l!["metric"]!.GetValue<string>() == "checksum_mismatch_rate" && l["promoteThreshold"]!.GetValue<double>() == 0.001);
        Assert.NotEmpty(series["times"]!.AsArray());
        Assert.Contains(series["decisions"]!.AsArray(), d => d!["direction"]!.GetValue<string>() == "promote" && d["to"]!.GetValue<string>() == "reverse_shadow");
    }
}
