using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Streaming.Api;
using Streaming.Api.Auth;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>The operator surface probed as an attacker and a careless operator would (issue 20): each refusal is clear and cheap.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class HardeningTests(SurfaceSystem system)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    static int _clients;

    // A client address of its own (through the loopback proxy the tests stand for), so rate limits do not cross tests.
    static string NewClientAddress() => $"203.0.113.{Interlocked.Increment(ref _clients)}";

    [Fact]
    public async Task A_chunked_sign_in_body_beyond_its_limit_is_refused_with_413_and_so_is_an_oversized_write()
    {
        // Bodies just over each limit: small enough to be in the socket's buffers whole before the server answers and
        // closes, so the client reads the 413 instead of failing its send on a broken pipe.
        using var anonymous = system.Client(from: NewClientAddress());
        var signIn = await anonymous.PostAsync("/auth/session", Chunked("{\"token\":\"" + new string('x', 4 * (int)SessionEndpoints.MaxSignInBytes) + "\"}"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, signIn.StatusCode);

        using var operatorClient = system.Client("operator");
        var reason = new string('r', 300 * 1024);
        var write = await operatorClient.PostAsync("/api/v1/jobs/web-stuck/overrides", Chunked($"{{\"kind\":\"hold\",\"reason\":\"{reason}\"}}"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, write.StatusCode);
    }

    [Fact]
    public async Task A_session_cookie_copied_before_sign_out_no_longer_works_after_it()
    {
        var (browser, csrf) = await SignInAsync(system.Tokens["viewer"]);
        using (browser)
        {
            var cookie = browser.DefaultRequestHeaders.GetValues("Cookie").Single();
            using var copy = system.Client();
            copy.DefaultRequestHeaders.Add("Cookie", cookie);
            Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("/api/v1/fleet/summary")).StatusCode);

            using var signOut = new HttpRequestMessage(HttpMethod.Delete, "/auth/session");
            signOut.Headers.Add(AuthSchemes.CsrfHeader, csrf);
            Assert.Equal(HttpStatusCode.NoContent, (await browser.SendAsync(signOut)).StatusCode);

            Assert.Equal(HttpStatusCode.Unauthorized, (await copy.GetAsync("/api/v1/fleet/summary")).StatusCode);
            Assert.Contains(system.Logs.Entries, e => e.Message.StartsWith("Audit: viewer signed out", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Revoking_a_token_ends_the_sessions_opened_with_it()
    {
        var tokens = new ApiTokens(system.Database, TimeProvider.System);
        var token = await tokens.CreateAsync("revoked-soon", ApiRole.Viewer, CancellationToken.None);
        var (browser, _) = await SignInAsync(token);
        using (browser)
        {
            Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/fleet/summary")).StatusCode);

            await tokens.RevokeAsync("revoked-soon", CancellationToken.None);

            await Eventually.Get(() => browser.GetAsync("/api/v1/fleet/summary"), r => r.StatusCode == HttpStatusCode.Unauthorized,
                ApiTokens.CacheFor + Timeout, "the session to end with its token");
        }
    }

    [Fact]
    public async Task A_session_ends_at_its_absolute_lifetime_however_much_it_is_used()
    {
        var options = system.Services.GetRequiredService<IOptions<ApiOptions>>();
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var sessions = new SessionStore(system.Services.GetRequiredService<ApiTokens>(), options, clock);
        var properties = new AuthenticationProperties();
        properties.Items[SessionStore.TokenDigestItem] = ApiTokens.DigestOf(system.Tokens["viewer"]);
        var key = await sessions.StoreAsync(new AuthenticationTicket(new System.Security.Claims.ClaimsPrincipal(), properties, AuthSchemes.Session));

        clock.Now += options.Value.SessionAbsoluteLifetime - TimeSpan.FromMinutes(1);
        Assert.NotNull(await sessions.RetrieveAsync(key));
        clock.Now += TimeSpan.FromMinutes(2);
        Assert.Null(await sessions.RetrieveAsync(key));
    }

    [Fact]
    public async Task Failed_authentications_from_one_address_get_429_with_retry_after_while_other_addresses_go_on()
    {
        var attacker = NewClientAddress();
        var limit = system.Services.GetRequiredService<IOptions<ApiOptions>>().Value.MostFailedAuthentications;
        for (var guess = 0; guess < limit; guess++)
        {
            using var guesser = system.Client(from: attacker);
            guesser.DefaultRequestHeaders.Authorization = new("Bearer", $"stk_guess-{guess}");
            Assert.Equal(HttpStatusCode.Unauthorized, (await guesser.GetAsync("/api/v1/jobs")).StatusCode);
        }

        using var next = system.Client(from: attacker);
        next.DefaultRequestHeaders.Authorization = new("Bearer", "stk_one-more-guess");
        var refused = await next.GetAsync("/api/v1/jobs");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter?.Delta > TimeSpan.Zero, "429 says when to try again");
        var signIn = await next.PostAsJsonAsync("/auth/session", new { token = "stk_another-guess" });
        Assert.Equal(HttpStatusCode.TooManyRequests, signIn.StatusCode);

        using var someoneElse = system.Client("viewer", from: NewClientAddress());
        Assert.Equal(HttpStatusCode.OK, (await someoneElse.GetAsync("/api/v1/jobs")).StatusCode);
        Assert.Contains(system.Logs.Entries, e => e.Message.StartsWith("Audit: refused 429 GET /api/v1/jobs from " + attacker, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Guessed_tokens_never_push_a_valid_token_out_of_the_cache()
    {
        // A clock that stands still: the valid token's cache entry cannot expire while the guesses run.
        var tokens = new ApiTokens(system.Database, new ManualClock(DateTimeOffset.UtcNow));
        var valid = await tokens.CreateAsync("cached-" + Guid.NewGuid().ToString("N")[..8], ApiRole.Viewer, CancellationToken.None);
        Assert.NotNull(await tokens.FindAsync(valid, CancellationToken.None));

        await Parallel.ForAsync(0, 10_001, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (guess, ct) => Assert.Null(await tokens.FindAsync($"stk_guess-{guess}", ct)));
        // Gone from the table behind the cache's back: only a cached copy can still find it.
        await using var delete = system.Database.CreateCommand("delete from api.tokens where token_sha256 = decode($1, 'hex')");
        delete.Parameters.AddWithValue(ApiTokens.DigestOf(valid));
        await delete.ExecuteNonQueryAsync();

        Assert.NotNull(await tokens.FindAsync(valid, CancellationToken.None));
    }

    [Fact]
    public async Task A_token_holds_at_most_the_configured_number_of_live_streams()
    {
        var tokens = new ApiTokens(system.Database, TimeProvider.System);
        var token = await tokens.CreateAsync("live-" + Guid.NewGuid().ToString("N")[..8], ApiRole.Viewer, CancellationToken.None);
        var most = system.Services.GetRequiredService<IOptions<ApiOptions>>().Value.MostLiveStreamsPerSession;
        using var client = system.Client();
        client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var open = new List<HttpResponseMessage>();
        try
        {
            for (var stream = 0; stream < most; stream++)
            {
                var response = await client.GetAsync("/api/v1/live", HttpCompletionOption.ResponseHeadersRead);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                open.Add(response);
            }
            Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync("/api/v1/live", HttpCompletionOption.ResponseHeadersRead)).StatusCode);

            open[0].Dispose();
            open.RemoveAt(0);
            var again = await Eventually.Get(() => client.GetAsync("/api/v1/live", HttpCompletionOption.ResponseHeadersRead),
                r => r.StatusCode == HttpStatusCode.OK, Timeout, "a slot given back when a stream closes");
            open.Add(again);
        }
        finally
        {
            open.ForEach(r => r.Dispose());
        }
    }

    [Fact]
    public async Task Anonymous_callers_get_no_metrics_and_a_readiness_without_details_nor_connection_details_anywhere()
    {
        using var anonymous = system.Client();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        var ready = (await (await anonymous.GetAsync("/health/ready")).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Null(ready["folds"]);
        Assert.Null(ready["loops"]);

        using var viewer = system.Client("viewer");
        var detailed = (await (await viewer.GetAsync("/health/ready")).Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.NotNull(detailed["loops"]);
        var metrics = await Eventually.Get(() => viewer.GetStringAsync("/metrics"), m => m.Contains("db_client", StringComparison.Ordinal), Timeout, "npgsql's instruments");
        // The service's pool is labelled by its name, not by its connection string (this test process holds other pools too).
        Assert.Contains("=\"event-store\"", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Behind_a_tls_terminating_proxy_the_session_cookie_is_secure_and_hsts_is_sent()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/auth/session") { Content = JsonContent.Create(new { token = system.Tokens["viewer"] }) };
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-For", NewClientAddress());
        using var client = system.Client();
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("secure", response.Headers.GetValues("Set-Cookie").Single(), StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("max-age=", response.Headers.GetValues("Strict-Transport-Security").Single(), StringComparison.Ordinal);

        var plain = await client.PostAsJsonAsync("/auth/session", new { token = system.Tokens["viewer"] });
        Assert.DoesNotContain("secure", plain.Headers.GetValues("Set-Cookie").Single(), StringComparison.OrdinalIgnoreCase);
        Assert.False(plain.Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_key_ring_is_kept_where_configured_and_only_its_owner_may_read_it()
    {
        (await SignInAsync(system.Tokens["viewer"])).Browser.Dispose();
        var folder = system.KeyRingFolder;
        Assert.True(Directory.Exists(folder));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        var keys = Directory.GetFiles(folder, "*.xml");
        Assert.NotEmpty(keys);
        Assert.All(keys, key => Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key)));
    }

    [Theory]
    [InlineData("""{"kind":"hold","reason":"audit","for":"99999999d"}""", "for")]
    [InlineData("""{"kind":"hold","reason":"audit","for":"99999999999999999999999999h"}""", "for")]
    public async Task An_override_lasting_beyond_any_valid_time_gets_400_not_500(string body, string field)
    {
        using var operatorClient = system.Client("operator");
        var response = await operatorClient.PostAsync("/api/v1/jobs/web-stuck/overrides", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]![field]);
    }

    [Fact]
    public async Task A_policy_nested_fifty_thousand_levels_deep_or_soaking_for_ever_gets_400_and_the_api_stays_up()
    {
        using var admin = system.Client("admin");
        var deep = "name: deep\nphases: " + new string('[', 50_000) + new string(']', 50_000);
        var response = await admin.PostAsJsonAsync("/api/v1/policies", new { text = deep, shadow = true });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("nests deeper than", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var soak = "name: forever\nphases: [a, b]\ngates:\n  - { from: a, to: b, soak: 99999999999d, promote: { window: 1m } }\n";
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/v1/policies", new { text = soak, shadow = true })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health/live")).StatusCode);
    }

    [Theory]
    [InlineData("..", "title", "id")]
    [InlineData("INC/1", "title", "id")]
    [InlineData("INC-\u202E1", "title", "id")]
    [InlineData("INC-7", "title \u202Ereversed", "title")]
    [InlineData("INC-7", "two\nlines", "title")]
    public async Task A_known_issue_with_a_hostile_id_or_title_gets_400_and_is_not_opened(string id, string title, string field)
    {
        using var operatorClient = system.Client("operator");
        var response = await operatorClient.PostAsJsonAsync("/api/v1/known-issues", new { id, title, jobs = new[] { SurfaceSystem.Stuck } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]![field]);
    }

    [Fact]
    public async Task A_known_issue_naming_a_control_stream_as_a_job_gets_400()
    {
        using var operatorClient = system.Client("operator");
        var response = await operatorClient.PostAsJsonAsync("/api/v1/known-issues", new { id = "INC-8", title = "t", jobs = new[] { "policy:cdc-migration" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["jobs"]);
    }

    [Fact]
    public async Task A_viewer_gets_no_history_of_a_stream_that_is_not_a_jobs()
    {
        using var viewer = system.Client("viewer");

        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync("/api/v1/jobs/shadow-policy:x/history")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await viewer.GetAsync("/api/v1/jobs/policy:cdc-migration/history")).StatusCode);
    }

    async Task<(HttpClient Browser, string Csrf)> SignInAsync(string token)
    {
        var browser = system.Client(from: NewClientAddress());
        var response = await browser.PostAsJsonAsync("/auth/session", new { token });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookie = response.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
        browser.DefaultRequestHeaders.Add("Cookie", cookie);
        var csrf = (await response.Content.ReadFromJsonAsync<JsonObject>())!["csrf"]!.GetValue<string>();
        return (browser, csrf);
    }

    static HttpContent Chunked(string text) => new ChunkedJson(Encoding.UTF8.GetBytes(text));

    // Content without a length, so the client sends it chunked: Content-Length checks cannot see its size.
    sealed class ChunkedJson : HttpContent
    {
        readonly byte[] _bytes;

        public ChunkedJson(byte[] bytes)
        {
            _bytes = bytes;
            Headers.ContentType = new("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var at = 0; at < _bytes.Length; at += 16 * 1024)
            {
                await stream.WriteAsync(_bytes.AsMemory(at, Math.Min(16 * 1024, _bytes.Length - at)));
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
