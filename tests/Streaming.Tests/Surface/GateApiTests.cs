using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>Pauses, resumptions and breaker trips through the API and the fleet page, carried out by the running Promoter.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class GateApiTests(SurfaceSystem system, HeadlessChromium browser) : IClassFixture<HeadlessChromium>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData("/api/v1/pauses", """{"reason":"  "}""", "reason")]
    [InlineData("/api/v1/pauses", """{"reason":"incident","for":"soon"}""", "for")]
    [InlineData("/api/v1/pauses", """{"reason":"incident","for":"60d"}""", "for")]
    [InlineData("/api/v1/pauses", """{"reason":"incident","phase":"cleanup"}""", "policy")]
    [InlineData("/api/v1/pauses", """{"reason":"incident","policy":"no-such-policy"}""", "policy")]
    [InlineData("/api/v1/pauses", """{"reason":"incident","policy":"cdc-migration","phase":"shadow"}""", "phase")]
    [InlineData("/api/v1/pauses", """{"reason":"incident","policy":"cdc-migration","phase":"orbit"}""", "phase")]
    [InlineData("/api/v1/pauses", """{"reason":"incident",""", "body")]
    [InlineData("/api/v1/pauses/resume", """{"policy":"cdc-migration"}""", "reason")]
    [InlineData("/api/v1/breakers/cdc-migration/orbit/trip", """{"reason":"checked"}""", "phase")]
    [InlineData("/api/v1/breakers/no-such-policy/cleanup/trip", """{"reason":"checked"}""", "policy")]
    public async Task A_bad_pause_resume_or_trip_gets_400_problem_json_naming_the_field_and_writes_nothing(string path, string body, string field)
    {
        using var operatorClient = system.Client("operator");
        const string Controls = "select count(*) from es.events where type in ('promotions-paused/v1', 'promotions-resumed/v1', 'circuit-breaker-trip-requested/v1')";
        var before = await system.CountAsync(Controls);
        var response = await operatorClient.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.NotNull(problem["errors"]![field]);
        Assert.Equal(before, await system.CountAsync(Controls));
    }

    [Fact]
    public async Task A_viewer_may_not_pause()
    {
        using var viewer = system.Client("viewer");
        var response = await viewer.PostAsJsonAsync("/api/v1/pauses", new { reason = "I am only a viewer" });
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_pause_of_a_gate_is_carried_out_by_the_promoter_shown_with_its_end_in_event_time_and_ended_by_a_resume()
    {
        using var operatorClient = system.Client("operator");
        using var viewer = system.Client("viewer");

        // When an operator pauses promotions into done for 2h of event time
        var response = await operatorClient.PostAsJsonAsync("/api/v1/pauses", new { policy = "cdc-migration", phase = "done", reason = "cleanup audit", @for = "2h" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var paused = (await response.Content.ReadFromJsonAsync(ContractsJson.Default.PromotionsPaused))!;
        Assert.Equal(("cdc-migration", "done", "operator", "cleanup audit", TimeSpan.FromHours(2)), (paused.Policy, paused.Phase, paused.Actor, paused.Reason, paused.For));

        // Then the Promoter holds it, its end two hours of the fleet's event time after its place in the log
        var gates = await Eventually.Get(() => viewer.GetFromJsonAsync<JsonObject>("/api/v1/gates")!,
            g => g!["pauses"]!.AsArray().Any(p => p!["scope"]!.GetValue<string>() == "cdc-migration into done"), Timeout, "the pause in the Promoter's gates");
        var pause = gates!["pauses"]!.AsArray().Single(p => p!["scope"]!.GetValue<string>() == "cdc-migration into done")!;
        var watermark = gates["watermark"]!.GetValue<DateTimeOffset>();
        // (the watermark may have moved on since the pause took its place in the log, never back)
        Assert.InRange(pause["until"]!.GetValue<DateTimeOffset>() - TimeSpan.FromHours(2), DateTimeOffset.MinValue, watermark);
        Assert.Equal(("operator", "cleanup audit"), (pause["actor"]!.GetValue<string>(), pause["reason"]!.GetValue<string>()));

        // When it is resumed, it is gone
        var resumed = await operatorClient.PostAsJsonAsync("/api/v1/pauses/resume", new { policy = "cdc-migration", phase = "done", reason = "audit done" });
        Assert.Equal(HttpStatusCode.OK, resumed.StatusCode);
        await Eventually.Get(() => viewer.GetFromJsonAsync<JsonObject>("/api/v1/gates")!,
            g => g!["pauses"]!.AsArray().All(p => p!["scope"]!.GetValue<string>() != "cdc-migration into done"), Timeout, "the pause to end");
    }

    [Fact]
    public async Task An_operator_trips_a_breaker_by_hand_and_the_promoter_records_it_open()
    {
        using var operatorClient = system.Client("operator");
        var response = await operatorClient.PostAsJsonAsync("/api/v1/breakers/cdc-migration/done/trip", new { reason = "target store degraded" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        await Eventually.True(async () => await system.CountAsync(
                "select count(*) from es.events where stream_id = 'breaker:cdc-migration:done' and type = 'circuit-breaker-changed/v1' and data::text like '%tripped by operator: target store degraded%'") == 1,
            Timeout, "the breaker to open");
        var reset = await operatorClient.PostAsJsonAsync("/api/v1/breakers/cdc-migration/done/reset", new { reason = "store recovered" });
        Assert.Equal(HttpStatusCode.OK, reset.StatusCode);
        await Eventually.True(async () => await system.CountAsync(
                "select count(*) from es.events where stream_id = 'breaker:cdc-migration:done' and type = 'circuit-breaker-changed/v1' and data::text like '%\"state\":\"closed\"%'") == 1,
            Timeout, "the breaker to close");
    }

    [Fact]
    public async Task An_operator_pauses_a_policy_from_the_fleet_page_sees_who_and_why_and_resumes_it_there()
    {
        await browser.Context.ClearCookiesAsync();
        var page = await browser.Context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync(new Uri(system.BaseUrl, "/fleet").ToString());
        await page.FillAsync("#token", system.Tokens["operator"]);
        await page.ClickAsync("#signin-button");
        await page.WaitForSelectorAsync("body[data-ready=true]", new() { Timeout = (float)Timeout.TotalMilliseconds });

        // When the operator pauses the policy's promotions into cleanup for 3h, with a reason
        await page.FillAsync("#pause-form [name=policy]", "cdc-migration");
        await page.FillAsync("#pause-form [name=phase]", "cleanup");
        await page.FillAsync("#pause-form [name=for]", "3h");
        await page.ClickAsync("#pause-button");
        Assert.Contains("Pause promotions of cdc-migration into cleanup", await page.InnerTextAsync("#confirm-title"));
        await page.FillAsync("#confirm-reason", "incident 42: target lagging");
        await page.ClickAsync("#confirm-ok");
        await page.WaitForSelectorAsync("#confirm", new() { State = WaitForSelectorState.Hidden, Timeout = (float)Timeout.TotalMilliseconds });
        Assert.Empty(errors);

        // Then the page shows the pause with who, why and until when, once the Promoter holds it
        var row = page.Locator("#pauses-table tr[data-scope='cdc-migration into cleanup']");
        await Eventually.True(async () =>
        {
            await page.ReloadAsync();
            await page.WaitForSelectorAsync("body[data-ready=true]", new() { Timeout = (float)Timeout.TotalMilliseconds });
            return await row.CountAsync() == 1;
        }, Timeout, "the pause on the fleet page");
        var shown = await row.InnerTextAsync();
        Assert.Contains("operator", shown, StringComparison.Ordinal);
        Assert.Contains("incident 42: target lagging", shown, StringComparison.Ordinal);
        Assert.DoesNotContain("until resumed", shown, StringComparison.Ordinal);
        Assert.Contains("silent jobs", await page.InnerTextAsync("#gates"), StringComparison.OrdinalIgnoreCase);
        await page.ScreenshotAsync(new() { Path = Path.Combine(HeadlessChromium.Screenshots, "fleet-gates.png"), FullPage = true });

        // When the operator resumes it there, it is recorded with the signed-in operator as the actor
        await page.ClickAsync("button[data-resume='cdc-migration into cleanup']");
        await page.FillAsync("#confirm-reason", "incident 42 over");
        await page.ClickAsync("#confirm-ok");
        await Eventually.True(async () => await system.CountAsync(
                "select count(*) from es.events where stream_id = 'pause:gate:cdc-migration:cleanup' and type = 'promotions-resumed/v1' and data::text like '%incident 42 over%'") == 1,
            Timeout, "the resumption to be recorded");
        Assert.Empty(errors);
        await page.CloseAsync();
    }
}
