using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Streaming.Hosting.Supervision;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>
/// The API as its own process, logging everything it can (every category at Verbose), while it is used the ways a
/// token or a secret label could leak: bearer tokens good and bad, a browser sign-in with the token in the body, the
/// session cookie, a job whose labels carry a password. Not one of them may appear in its output.
/// </summary>
[Collection(SurfaceCollection.Name)]
public sealed class SecretsInLogsTests(SurfaceSystem system)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Tokens_session_cookies_and_secret_labels_never_reach_the_log_even_at_verbose()
    {
        using var folder = new TemporaryFolder();
        var tokensFile = folder.PathOf("api-tokens.json");
        var url = $"http://127.0.0.1:{Streaming.Chaos.Environment.FreePort.Next()}";
        const string guessed = "stk_guessed-token-that-must-not-be-logged";
        var dll = RunningProcess.HostDll("Api");
        await using var api = RunningProcess.Start("dotnet", [dll], new Dictionary<string, string>
        {
            ["ConnectionStrings__EventStore"] = system.Pipeline.ConnectionString,
            ["Kafka__BootstrapServers"] = system.Pipeline.Kafka.BootstrapServers,
            ["Kafka__CreateTopics"] = "false",
            ["Api__TokensFile"] = tokensFile,
            ["ASPNETCORE_URLS"] = url,
            ["Serilog__MinimumLevel__Default"] = "Verbose",
            ["Serilog__MinimumLevel__Override__Microsoft"] = "Verbose",
            ["Serilog__MinimumLevel__Override__System"] = "Verbose",
        }, Path.GetDirectoryName(dll));
        await api.WaitForOutputAsync("Now listening on", Timeout);
        var tokens = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(tokensFile))!;

        // Bearer tokens: each role reading, a write, and a token nobody issued
        foreach (var (role, token) in tokens)
        {
            using var client = Client(url, token);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/jobs/{SurfaceSystem.Hostile}")).StatusCode);
        }
        using (var operatorClient = Client(url, tokens["operator"]))
        {
            var hold = await operatorClient.PostAsJsonAsync($"/api/v1/jobs/{SurfaceSystem.Hostile}/overrides", new { kind = "hold", reason = "log check" });
            Assert.Equal(HttpStatusCode.Created, hold.StatusCode);
            var release = await operatorClient.PostAsJsonAsync($"/api/v1/jobs/{SurfaceSystem.Hostile}/overrides", new { kind = "release", reason = "log check" });
            Assert.Equal(HttpStatusCode.Created, release.StatusCode);
        }
        using (var stranger = Client(url, guessed))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/api/v1/jobs")).StatusCode);
        }

        // The browser's way: the token in a sign-in body, then the session cookie on reads
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies }) { BaseAddress = new Uri(url) };
        var signIn = await browser.PostAsJsonAsync("/auth/session", new { token = tokens["admin"] });
        Assert.Equal(HttpStatusCode.OK, signIn.StatusCode);
        var csrf = (await signIn.Content.ReadFromJsonAsync<JsonObject>())!["csrf"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync($"/api/v1/jobs/{SurfaceSystem.Hostile}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.PostAsJsonAsync("/auth/session", new { token = guessed })).StatusCode);
        var session = cookies.GetAllCookies().Single().Value;

        api.Signal(PosixSignals.Terminate);
        Assert.Equal(0, await api.WaitForExitAsync(Timeout));
        var log = api.Output;
        // The log is the verbose one asked for (else the check below proves nothing) ...
        Assert.Contains($"/api/v1/jobs/{SurfaceSystem.Hostile}", log, StringComparison.Ordinal);
        Assert.Contains("/auth/session", log, StringComparison.Ordinal);
        // ... and holds no secret
        foreach (var (role, token) in tokens)
        {
            Assert.False(log.Contains(token, StringComparison.Ordinal), $"the {role} token is in the log");
        }
        Assert.DoesNotContain(guessed, log, StringComparison.Ordinal);
        Assert.DoesNotContain(session, log, StringComparison.Ordinal);
        Assert.DoesNotContain(csrf, log, StringComparison.Ordinal);
        Assert.DoesNotContain(SurfaceSystem.Password, log, StringComparison.Ordinal);
    }

    static HttpClient Client(string url, string token)
    {
        var client = new HttpClient { BaseAddress = new Uri(url) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

}
