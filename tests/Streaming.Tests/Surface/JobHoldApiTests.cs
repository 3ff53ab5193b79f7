using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>The jobs list filtered by what holds a job (silent, awaiting approval, paused), and the holds in a job's detail.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class JobHoldApiTests(SurfaceSystem system)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    static async Task<string[]> JobsAsync(HttpClient client, string state)
    {
        var page = (await client.GetFromJsonAsync<JsonObject>($"/api/v1/jobs?state={state}&limit=500"))!;
        return [.. page["jobs"]!.AsArray().Select(j => j!["jobId"]!.GetValue<string>())];
    }

    [Fact]
    public async Task The_jobs_list_filters_by_silent_awaiting_approval_and_paused_each_listing_only_the_jobs_so_held()
    {
        await HoldSeed.EnsureAsync(system, Timeout);
        using var viewer = system.Client("viewer");

        var silent = await JobsAsync(viewer, "silent");
        var waiting = await JobsAsync(viewer, "awaiting-approval");
        var paused = await JobsAsync(viewer, "paused");

        Assert.Contains(HoldSeed.Silent, silent);
        Assert.DoesNotContain(HoldSeed.Approval, silent);
        Assert.Contains(HoldSeed.Approval, waiting);
        Assert.DoesNotContain(HoldSeed.Paused, waiting);
        Assert.Contains(HoldSeed.Paused, paused);
        Assert.DoesNotContain(HoldSeed.Silent, paused);
        Assert.DoesNotContain(HoldSeed.Approval, paused);
        // (no job under a policy whose gate no pause covers)
        Assert.DoesNotContain(SurfaceSystem.Stuck, paused);
    }

    [Theory]
    [InlineData("sleepy")]
    [InlineData("PAUSED")]
    public async Task An_unknown_state_gets_400_problem_json_naming_the_field(string state)
    {
        using var viewer = system.Client("viewer");
        var response = await viewer.GetAsync($"/api/v1/jobs?state={Uri.EscapeDataString(state)}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("silent, awaiting-approval, paused", problem["errors"]!["state"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task A_paused_jobs_detail_holds_the_pause_with_who_why_and_until_when()
    {
        await HoldSeed.EnsureAsync(system, Timeout);
        using var viewer = system.Client("viewer");
        var detail = (await viewer.GetFromJsonAsync<JsonObject>($"/api/v1/jobs/{HoldSeed.Paused}"))!;
        var hold = Assert.Single(detail["holds"]!.AsArray())!;
        Assert.Equal(("paused", "operator", HoldSeed.PauseReason), (hold["kind"]!.GetValue<string>(), hold["actor"]!.GetValue<string>(), hold["reason"]!.GetValue<string>()));
        Assert.NotNull(hold["until"]);
        Assert.Equal(hold["until"]!.GetValue<DateTimeOffset>(), detail["earliestMove"]!.GetValue<DateTimeOffset>());
    }
}
