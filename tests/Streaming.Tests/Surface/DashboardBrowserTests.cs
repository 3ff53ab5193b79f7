using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>The dashboards in a real browser: each test signs in on a fresh page and fails on any console error or page error.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class DashboardBrowserTests(SurfaceSystem system, HeadlessChromium browser) : IClassFixture<HeadlessChromium>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    Task<(IPage Page, List<string> Errors)> SignInAsync(string role, string path) => BrowserSignIn.SignInAsync(browser, system, role, path, Timeout);

    [Fact]
    public async Task The_fleet_page_shows_the_apis_counts_lists_and_feed_and_is_screenshotted()
    {
        var (page, errors) = await SignInAsync("viewer", "/fleet");
        using var viewer = system.Client("viewer");
        var summary = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/fleet/summary"))!;

        Assert.Equal(summary["totals"]!["jobs"]!.GetValue<int>().ToString(System.Globalization.CultureInfo.InvariantCulture), await page.InnerTextAsync("#total-jobs"));
        foreach (var phase in summary["phases"]!.AsArray())
        {
            var row = page.Locator($"#phase-table tr[data-phase='{phase!["phase"]!.GetValue<string>()}'][data-policy='{phase["policy"]!.GetValue<string>()}'] td.jobs");
            Assert.Equal(phase["jobs"]!.GetValue<int>().ToString(System.Globalization.CultureInfo.InvariantCulture), await row.InnerTextAsync());
        }
        Assert.Contains(SurfaceSystem.Stuck, await page.InnerTextAsync(".list[data-flag=stuck]"));
        Assert.Contains(SurfaceSystem.Promoted, await page.InnerTextAsync("#feed-table"));
        Assert.Equal(2, await page.Locator("#phase-chart canvas, #moves-chart canvas").CountAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "fleet.png"), FullPage = true });
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [Fact]
    public async Task A_stuck_jobs_page_charts_its_criteria_against_the_thresholds_and_names_what_blocks_it()
    {
        var (page, errors) = await SignInAsync("viewer", "/job?id=" + SurfaceSystem.Stuck);
        Assert.StartsWith("checksum_mismatch_rate max = 0.02 fails ≤ 0.001", await page.InnerTextAsync("#blocking"));
        Assert.Equal(3, await page.Locator("#charts .chart-box canvas").CountAsync());
        var legend = await page.InnerTextAsync(".chart-box[data-metric=checksum_mismatch_rate] .u-legend");
        Assert.Contains("promote ≤ 0.001", legend);
        Assert.Contains("max (promote rule)", legend);
        var blocking = page.Locator("#criteria-table tr.blocking");
        Assert.Equal(1, await blocking.CountAsync());
        Assert.Contains("checksum_mismatch_rate", await blocking.InnerTextAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "job.png"), FullPage = true });
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [Fact]
    public async Task An_operator_holds_a_job_from_its_page_and_the_event_names_the_signed_in_operator()
    {
        var (page, errors) = await SignInAsync("operator", "/job?id=" + SurfaceSystem.Stuck);
        await page.ClickAsync("#action-hold");
        await page.FillAsync("#confirm-reason", "looking at the checksums");
        await page.FillAsync("#confirm-for", "2h");
        await page.ClickAsync("#confirm-ok");
        await page.WaitForSelectorAsync("#overrides-table .actor");

        await using var command = system.Database.CreateCommand("select data from es.events where stream_id = $1 and type = $2 order by version desc limit 1");
        command.Parameters.AddWithValue(SurfaceSystem.Stuck);
        command.Parameters.AddWithValue(OverrideSet.EventType);
        var set = ContractsJson.Deserialize<OverrideSet>((string)(await command.ExecuteScalarAsync())!);
        Assert.Equal(("hold", "operator", "looking at the checksums"), (set.Kind, set.Actor, set.Reason));
        Assert.Equal(TimeSpan.FromHours(2), set.ExpiresAt - set.SetAt);
        Assert.Contains("operator", await page.InnerTextAsync("#overrides-table"));
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [Fact]
    public async Task An_operator_resolves_a_known_issue_from_the_fleet_page_and_the_event_names_the_signed_in_operator()
    {
        // Given an open known issue (of a job that does not exist, so no other test's job is held by it)
        using (var operatorClient = system.Client("operator"))
        {
            var opened = await operatorClient.PostAsJsonAsync("/api/v1/known-issues", new { id = "web-issue", title = "replica lag in eu", jobs = new[] { "web-nobody" } });
            Assert.True(opened.IsSuccessStatusCode, await opened.Content.ReadAsStringAsync());
        }

        // When an operator resolves it on the fleet page, with a reason
        var (page, errors) = await SignInAsync("operator", "/fleet");
        await page.ClickAsync("button[data-issue='web-issue']", new() { Timeout = (float)Timeout.TotalMilliseconds });
        Assert.Contains("Resolve known issue web-issue", await page.InnerTextAsync("#confirm-title"));
        await page.FillAsync("#confirm-reason", "lag gone since the failover");
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "fleet-resolve.png") });
        await page.ClickAsync("#confirm-ok");

        // Then the resolution is recorded with the signed-in operator as the actor, and the page shows it resolved
        await Eventually.True(async () => await system.CountAsync("select count(*) from es.events where type = 'known-issue-resolved/v1' and data::text like '%web-issue%'") == 1,
            Timeout, "the resolution to be recorded");
        await using var command = system.Database.CreateCommand("select data from es.events where type = $1 order by global_position desc limit 1");
        command.Parameters.AddWithValue(KnownIssueResolved.EventType);
        var resolved = ContractsJson.Deserialize<KnownIssueResolved>((string)(await command.ExecuteScalarAsync())!);
        Assert.Equal(("web-issue", "operator", "lag gone since the failover"), (resolved.IssueId, resolved.ResolvedBy, resolved.Reason));
        await page.WaitForSelectorAsync("button[data-issue='web-issue']", new() { State = WaitForSelectorState.Detached, Timeout = (float)Timeout.TotalMilliseconds });
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [Fact]
    public async Task A_viewer_sees_no_write_buttons_and_a_forged_post_from_the_page_gets_403()
    {
        var (page, errors) = await SignInAsync("viewer", "/job?id=" + SurfaceSystem.Stuck);
        Assert.Equal(0, await page.Locator("#actions button").CountAsync());
        Assert.False(await page.IsVisibleAsync("#actions-card"));
        // Nor on the fleet page, where an operator resolves an open known issue
        using (var operatorClient = system.Client("operator"))
        {
            var opened = await operatorClient.PostAsJsonAsync("/api/v1/known-issues", new { id = "web-viewer-issue", title = "seen by a viewer", jobs = new[] { "web-nobody" } });
            Assert.True(opened.IsSuccessStatusCode, await opened.Content.ReadAsStringAsync());
        }
        var fleet = await browser.Context.NewPageAsync();
        await fleet.GotoAsync(new Uri(system.BaseUrl, "/fleet").ToString());
        await fleet.WaitForSelectorAsync("body[data-ready=true]", new() { Timeout = (float)Timeout.TotalMilliseconds });
        await Eventually.True(async () => (await fleet.InnerTextAsync("#issues")).Contains("web-viewer-issue", StringComparison.Ordinal), Timeout, "the open issue on the fleet page");
        Assert.Equal(0, await fleet.Locator("#breakers button, #issues button").CountAsync());
        await fleet.CloseAsync();

        // A viewer's session, with its CSRF token even, may not write; nor may an operator's session without the token.
        var status = await page.EvaluateAsync<int>("""
            async () => (await fetch('/api/v1/jobs/web-stuck/overrides', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ kind: 'hold', reason: 'forged' }), credentials: 'same-origin' })).status
            """);
        Assert.Equal(403, status);
        await page.CloseAsync();

        var (operatorPage, operatorErrors) = await SignInAsync("operator", "/fleet");
        var forged = await operatorPage.EvaluateAsync<System.Text.Json.JsonElement>("""
            async () => { const r = await fetch('/api/v1/jobs/web-stuck/overrides', { method: 'POST', headers: { 'Content-Type': 'application/json' },
                body: JSON.stringify({ kind: 'hold', reason: 'forged' }), credentials: 'same-origin' }); return { status: r.status, body: await r.json() }; }
            """);
        Assert.Equal(403, forged.GetProperty("status").GetInt32());
        Assert.Contains("CSRF", forged.GetProperty("body").GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, await system.CountAsync("select count(*) from es.events where stream_id = 'web-stuck' and data::text like '%forged%'"));
        Assert.DoesNotContain(errors, e => !e.Contains("403", StringComparison.Ordinal));
        Assert.DoesNotContain(operatorErrors, e => !e.Contains("403", StringComparison.Ordinal));
        await operatorPage.CloseAsync();
    }

    [Fact]
    public async Task Markup_in_a_label_is_shown_as_text_and_a_password_label_is_masked()
    {
        var (page, errors) = await SignInAsync("viewer", "/job?id=" + SurfaceSystem.Hostile);
        var labels = await page.InnerTextAsync("#labels");
        Assert.Contains("team=" + SurfaceSystem.HostileLabel, labels);
        Assert.Contains("db_password=" + SecretLabels.Mask, labels);
        Assert.Equal(0, await page.Locator("#labels script").CountAsync());
        Assert.DoesNotContain(SurfaceSystem.Password, await page.ContentAsync());
        var policy = (await page.APIRequest.GetAsync(page.Url)).Headers["content-security-policy"];
        Assert.Contains("script-src 'self'", policy);
        Assert.DoesNotContain("unsafe-inline", policy);
        Assert.Empty(errors);
        await page.CloseAsync();
    }
}
