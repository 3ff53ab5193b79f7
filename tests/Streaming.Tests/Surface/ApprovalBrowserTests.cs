using Microsoft.Playwright;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>The approve controls and the evidence chart in a real browser, screenshotted.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class ApprovalBrowserTests(SurfaceSystem system, HeadlessChromium browser) : IClassFixture<HeadlessChromium>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    float Wait => (float)Timeout.TotalMilliseconds;

    async Task<ApprovalGranted?> LatestGrantAsync(string job)
    {
        await using var command = system.Database.CreateCommand("select data from es.events where stream_id = $1 and type = $2 order by version desc limit 1");
        command.Parameters.AddWithValue(job);
        command.Parameters.AddWithValue(ApprovalGranted.EventType);
        return await command.ExecuteScalarAsync() is string data ? ContractsJson.Deserialize<ApprovalGranted>(data) : null;
    }

    [Fact]
    public async Task An_operator_approves_a_waiting_job_from_its_page_which_shows_the_passing_evidence()
    {
        await ApprovalSeed.EnsureAsync(system, Timeout);
        var (page, errors) = await BrowserSignIn.SignInAsync(browser, system, "operator", "/job?id=" + ApprovalSeed.Page, Timeout);

        // The page shows the gate it waits at and the criteria that passed, with an Approve button
        await page.WaitForSelectorAsync("#approval-card:not(.hidden)", new() { Timeout = Wait });
        Assert.Contains("shadow → reverse_shadow", await page.InnerTextAsync("#approval-sub"));
        Assert.Contains("error_rate", await page.InnerTextAsync("#approval-evidence"));
        Assert.Contains("pass", await page.InnerTextAsync("#approval-evidence"));
        Assert.Contains("awaiting-approval", await page.InnerTextAsync("#flags"));

        // When the operator approves it with a reason
        await page.ClickAsync("#action-approve");
        Assert.Contains("Approve " + ApprovalSeed.Page, await page.InnerTextAsync("#confirm-title"));
        await page.FillAsync("#confirm-reason", "checksums compared by hand");
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "job-approve-dialog.png") });
        await page.ClickAsync("#confirm-ok");

        // Then the approval names the signed-in operator, and the page says it is approved
        var grant = await Eventually.Get(() => LatestGrantAsync(ApprovalSeed.Page), g => g is not null, Timeout, "the approval to be recorded");
        Assert.Equal(("operator", "checksums compared by hand", "job"), (grant!.Actor, grant.Reason, grant.Scope));
        await Eventually.True(async () =>
        {
            await page.ReloadAsync();
            await page.WaitForSelectorAsync("body[data-ready=true]", new() { Timeout = Wait });
            return await page.Locator("#approval-granted").CountAsync() == 1;
        }, Timeout, "the page to show the approval");
        Assert.Equal(0, await page.Locator("#action-approve").CountAsync());
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "job-approved.png"), FullPage = true });
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [Fact]
    public async Task The_fleet_page_counts_the_jobs_waiting_at_each_gate_and_an_operator_approves_a_gate_in_one_batch()
    {
        await ApprovalSeed.EnsureAsync(system, Timeout);
        var (page, errors) = await BrowserSignIn.SignInAsync(browser, system, "operator", "/fleet", Timeout);
        var row = page.Locator("#approvals-table tr[data-gate='fleet-gate/shadow']");
        await row.WaitForAsync(new() { Timeout = Wait });
        Assert.Contains("2", await row.InnerTextAsync());

        // When the operator approves the gate's batch: the dialog says how many (a dry run's count)
        await page.ClickAsync("button[data-approve='fleet-gate/shadow']");
        await page.WaitForSelectorAsync("#confirm[open]", new() { Timeout = Wait });
        Assert.Contains("Approve 2 jobs: fleet-gate shadow → reverse_shadow", await page.InnerTextAsync("#confirm-title"));
        await page.FillAsync("#confirm-reason", "wave 3 signed off");
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "fleet-approve-dialog.png"), FullPage = true });
        await page.ClickAsync("#confirm-ok");

        // Then both jobs at that gate are approved, with the selector as scope, and the page counts them approved
        foreach (var job in new[] { ApprovalSeed.Fleet1, ApprovalSeed.Fleet2 })
        {
            var grant = await Eventually.Get(() => LatestGrantAsync(job), g => g is not null, Timeout, $"the approval of {job}");
            Assert.Equal(("operator", "batch: policy=fleet-gate, phase=shadow"), (grant!.Actor, grant.Scope));
        }
        await Eventually.True(async () => (await page.Locator("button[data-approve='fleet-gate/shadow']").CountAsync()) == 0, Timeout,
            "the gate to have no unapproved job left on the page");
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "fleet-approvals.png"), FullPage = true });
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [Fact]
    public async Task A_job_awaiting_acknowledgement_charts_the_evidence_of_the_gate_that_promoted_it_instead_of_an_empty_chart()
    {
        var (page, errors) = await BrowserSignIn.SignInAsync(browser, system, "viewer", "/job?id=" + SurfaceSystem.Promoted, Timeout);
        Assert.Contains("not acknowledged yet", await page.InnerTextAsync("#charts-basis"));
        Assert.Equal(3, await page.Locator("#charts .chart-box canvas").CountAsync());
        Assert.Equal(0, await page.Locator("#charts .empty").CountAsync());
        Assert.Contains("promote ≤ 0.001", await page.InnerTextAsync(".chart-box[data-metric=checksum_mismatch_rate] .u-legend"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "job-awaiting-ack-evidence.png"), FullPage = true });
        Assert.Empty(errors);
        await page.CloseAsync();
    }
}
