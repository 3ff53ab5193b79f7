using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Streaming.Cli.Http;

/// <summary>
/// The tool's writes, sent to the API with a bearer token so that roles apply and the actor recorded is the token's
/// holder. An answer other than success becomes a <see cref="CommandFailedException"/> carrying the API's own problem
/// message (exit 2 for a refused request, 1 otherwise). The token goes only into the Authorization header.
/// </summary>
public sealed class ApiClient(ApiEndpoint endpoint) : IDisposable
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(100);

    readonly HttpClient _http = new(new SocketsHttpHandler { AllowAutoRedirect = false })
    {
        BaseAddress = endpoint.BaseUrl,
        Timeout = Timeout,
        DefaultRequestHeaders = { Authorization = new AuthenticationHeaderValue("Bearer", endpoint.Token) },
    };

    /// <summary>POSTs <paramref name="body"/> as JSON to <paramref name="path"/> (relative, without a leading slash) and reads the answer as <typeparamref name="T"/>.</summary>
    public async Task<T> PostAsync<T>(string path, object body, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await _http.PostAsJsonAsync(path, body, Json, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            throw new CommandFailedException($"the API at {endpoint.BaseUrl} is not reachable: {e.Message}");
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new CommandFailedException($"the API at {endpoint.BaseUrl} did not answer within {Timeout.TotalSeconds:0} s");
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                throw await RefusedAsync(response, cancellationToken);
            }
            return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken)
                ?? throw new CommandFailedException($"the API answered {(int)response.StatusCode} with no body");
        }
    }

    static async Task<CommandFailedException> RefusedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var status = (int)response.StatusCode;
        var detail = await ProblemDetailAsync(response, cancellationToken);
        var what = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => "the API did not accept the token",
            HttpStatusCode.Forbidden => "the API refused: the token's role may not do this",
            HttpStatusCode.TooManyRequests => "the API refused: too many failed sign-ins from here" +
                (response.Headers.RetryAfter?.Delta is { } after ? $", try again in {after.TotalSeconds:0} s" : ""),
            HttpStatusCode.NotFound => "the API found nothing there",
            HttpStatusCode.Conflict => "the API refused: conflict",
            _ => $"the API refused the request",
        };
        // A request the API judged wrong is misuse (exit 2), like a bad argument; anything else is a failure (exit 1).
        var exitCode = response.StatusCode == HttpStatusCode.BadRequest ? 2 : 1;
        return new CommandFailedException($"{what} ({status}){(detail is null ? "" : ": " + detail)}", exitCode);
    }

    static async Task<string?> ProblemDetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        try
        {
            using var problem = JsonDocument.Parse(text);
            if (problem.RootElement.ValueKind == JsonValueKind.Object)
            {
                if (problem.RootElement.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
                {
                    var fields = errors.EnumerateObject()
                        .SelectMany(e => e.Value.ValueKind == JsonValueKind.Array ? e.Value.EnumerateArray().Select(m => $"{e.Name}: {m.GetString()}") : [])
                        .ToList();
                    if (fields.Count > 0)
                    {
                        return string.Join("; ", fields);
                    }
                }
                if (problem.RootElement.TryGetProperty("detail", out var detail) && detail.GetString() is { Length: > 0 } said)
                {
                    return said;
                }
                if (problem.RootElement.TryGetProperty("title", out var title) && title.GetString() is { Length: > 0 } titled)
                {
                    return titled;
                }
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's error page): say the start of it.
        }
        return text.Length > 300 ? text[..300] + "…" : text;
    }

    public void Dispose() => _http.Dispose();
}
