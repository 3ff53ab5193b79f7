using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>Silent, awaiting-approval and paused jobs at a glance on the job and fleet pages, in a real browser, screenshotted.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class JobHoldBrowserTests(SurfaceSystem system, HeadlessChromium browser) : IClassFixture<HeadlessChromium>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    async Task<T> LatestAsync<T>(string job, string type)
    {
        await using var command = system.Database.CreateCommand("select data from es.events where stream_id = $1 and type = $2 order by version desc limit 1");
        command.Parameters.AddWithValue(job);
        command.Parameters.AddWithValue(type);
        return ContractsJson.Deserialize<T>((string)(await command.ExecuteScalarAsync())!);
    }

    static string Minute(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);

    async Task<(IPage Page, List<string> Errors)> JobPageAsync(string job)
    {
        await HoldSeed.EnsureAsync(system, Timeout);
        return await BrowserSignIn.SignInAsync(browser, system, "viewer", "/job?id=" + job, Timeout);
    }

    [Fact]
    public async Task A_silent_job_shows_a_silent_badge_beside_its_phase_since_when_in_event_time_with_the_policys_threshold()
    {
        var (page, errors) = await JobPageAsync(HoldSeed.Silent);

        // Its last signal was at minute 2 and its policy's silence is 30 minutes: silent since 09:32 of event time
        Assert.Equal("silent", await page.InnerTextAsync("#phase-line .state-badge[data-hold=silent]"));
        var hold = await page.InnerTextAsync("#holds .hold-silent");
        Assert.Contains("silent since 2026-03-02 09:32: no signal since 2026-03-02 09:02, more than the policy's 30 min before the fleet's latest", hold);
        Assert.Equal("silent since 2026-03-02 09:32: held until it signals", await page.InnerTextAsync("#earliest-move"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "job-silent.png") });
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [Fact]
    public async Task A_job_awaiting_approval_says_since_when_and_at_which_gate_and_that_it_waits_for_the_approval_not_the_soak()
    {
        var (page, errors) = await JobPageAsync(HoldSeed.Approval);
        var requested = await LatestAsync<ApprovalRequested>(HoldSeed.Approval, ApprovalRequested.EventType);

        Assert.Equal("awaiting approval", await page.InnerTextAsync("#phase-line .state-badge[data-hold=awaiting-approval]"));
        var waits = $"awaits approval at gate shadow → reverse_shadow since {Minute(requested.RequestedAt)}";
        Assert.Contains(waits, await page.InnerTextAsync("#holds .hold-awaiting-approval"));
        var earliest = await page.InnerTextAsync("#earliest-move");
        Assert.Equal(waits, earliest);
        Assert.DoesNotContain("promotes", earliest);
        await page.WaitForSelectorAsync("#approval-card:not(.hidden)", new() { Timeout = (float)Timeout.TotalMilliseconds });
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "job-awaiting-approval.png") });
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [Fact]
    public async Task A_job_held_by_a_pause_names_the_gate_who_paused_it_why_and_until_when_with_the_reason_shown_as_text()
    {
        var (page, errors) = await JobPageAsync(HoldSeed.Paused);
        var paused = await LatestAsync<PromotionsPaused>(PromotionsPaused.StreamFor(HoldSeed.Paused, "reverse_shadow"), PromotionsPaused.EventType);
        using var viewer = system.Client("viewer");
        var until = (await viewer.GetFromJsonAsync<JsonObject>("/api/v1/gates"))!["pauses"]!
            .AsArray().Single(p => p!["scope"]!.GetValue<string>() == $"{HoldSeed.Paused} into reverse_shadow")!["until"]!.GetValue<DateTimeOffset>();

        Assert.Equal("paused", await page.InnerTextAsync("#phase-line .state-badge[data-hold=paused]"));
        var held = $"held by the pause of gate shadow→reverse_shadow by {paused.Actor} until {Minute(until)}";
        var hold = await page.InnerTextAsync("#holds .hold-paused");
        Assert.Contains(held, hold);
        // The reason an operator wrote is shown as the characters typed, never as markup
        Assert.EndsWith(": " + HoldSeed.PauseReason, hold);
        Assert.Equal(0, await page.Locator("#holds b").CountAsync());
        // (the earliest move is the pause's end)
        Assert.Equal($"{Minute(until)}: {held}", await page.InnerTextAsync("#earliest-move"));
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "job-paused.png") });
        Assert.Empty(errors);
        await page.CloseAsync();
    }

    [Fact]
    public async Task The_fleet_page_counts_silent_waiting_and_paused_jobs_at_the_top_each_linking_to_the_jobs_list_filtered_by_it()
    {
        await HoldSeed.EnsureAsync(system, Timeout);
        var (page, errors) = await BrowserSignIn.SignInAsync(browser, system, "viewer", "/fleet", Timeout);

        // The three counts sit in the strip at the top, inside the first screen
        foreach (var state in new[] { "silent", "awaiting-approval", "paused" })
        {
            var stat = page.Locator($"#held-{state}");
            Assert.True(int.Parse(await stat.Locator(".value").InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture) >= 1, state);
            var box = (await stat.BoundingBoxAsync())!;
            Assert.True(box.Y + box.Height <= 900, $"{state} is below the first screen ({box.Y})");
        }
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "fleet-held.png") });

        // When the viewer clicks the paused count, the jobs list shows the jobs a pause holds
        await page.ClickAsync("#held-paused");
        // (the list loaded before the click holds every job until the filtered one replaces it: wait for that one)
        await Eventually.True(async () => (await page.Locator("#jobs-table").CountAsync()) == 1
            && await page.InnerTextAsync("#jobs-table") is var listed
            && listed.Contains(HoldSeed.Paused, StringComparison.Ordinal)
            && !listed.Contains(HoldSeed.Silent, StringComparison.Ordinal)
            && !listed.Contains(HoldSeed.Approval, StringComparison.Ordinal), Timeout, "the paused jobs listed, and only them");
        Assert.Equal("paused", await page.InputValueAsync("#f-state"));

        // And the silent count lists the silent job
        await page.ClickAsync("#held-silent");
        await Eventually.True(async () => (await page.InnerTextAsync("#jobs")).Contains(HoldSeed.Silent, StringComparison.Ordinal), Timeout, "the silent jobs listed");
        Assert.DoesNotContain(HoldSeed.Paused, await page.InnerTextAsync("#jobs"));
        Assert.Empty(errors);
        await page.CloseAsync();
    }
}
