using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Streaming.Api.Notifications;

/// <summary>
/// Sends one notification to one webhook over one long-lived <see cref="HttpClient"/>, with an <c>Idempotency-Key</c>
/// header (the notification's key: the same at every attempt, so a receiver can drop a repeat) and says what came of
/// it. Errors are described without the webhook's URL, which may hold a token.
/// </summary>
public sealed class WebhookSender(HttpClient client, TimeSpan timeout)
{
    public const string IdempotencyHeader = "Idempotency-Key";

    // The part of an answer kept in the delivery's last error.
    const int KeptAnswer = 200;

    public async Task<DeliveryOutcome> SendAsync(WebhookOptions webhook, StoredNotification notification, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Url)
        {
            Content = new StringContent(WebhookBodies.For(webhook.Format, notification).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(IdempotencyHeader, notification.Notification.Key);
        request.Headers.Add("X-Streaming-Notification", notification.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.UserAgent.Add(new ProductInfoHeaderValue("streaming-notifications", "1"));
        using var timing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timing.CancelAfter(timeout);
        try
        {
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timing.Token);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new DeliveryOutcome(DeliveryOutcome.Delivered, status, null);
            }
            var answer = await AnswerAsync(response, timing.Token);
            var error = Scrub($"HTTP {status} {response.ReasonPhrase}{(answer.Length > 0 ? ": " + answer : "")}", webhook.Url);
            return response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || status >= 500
                ? new DeliveryOutcome(DeliveryOutcome.Retry, status, error, RetryAfter(response))
                : new DeliveryOutcome(DeliveryOutcome.Failed, status, error + " (refused: not retried)");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new DeliveryOutcome(DeliveryOutcome.Retry, null, $"no answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new DeliveryOutcome(DeliveryOutcome.Retry, null, Scrub($"{e.HttpRequestError}: {e.Message}", webhook.Url));
        }
    }

    /// <summary>The text with the URL, its path and query, its user information and its host taken out.</summary>
    public static string Scrub(string text, string url)
    {
        var scrubbed = text.Replace(url, "<webhook>", StringComparison.OrdinalIgnoreCase);
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            foreach (var secret in new[] { uri.PathAndQuery, uri.UserInfo, Uri.UnescapeDataString(uri.PathAndQuery) }.Where(s => s.Length > 1))
            {
                scrubbed = scrubbed.Replace(secret, "<webhook path>", StringComparison.OrdinalIgnoreCase);
            }
            // Where it is, too: pages and the API name a webhook, never show where it points.
            foreach (var place in new[] { uri.Authority, uri.Host }.Where(s => s.Length > 0))
            {
                scrubbed = scrubbed.Replace(place, "<webhook host>", StringComparison.OrdinalIgnoreCase);
            }
        }
        return scrubbed;
    }

    static async Task<string> AnswerAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            text = text.ReplaceLineEndings(" ").Trim();
            return text.Length <= KeptAnswer ? text : text[..KeptAnswer] + "…";
        }
        catch (HttpRequestException)
        {
            return "";
        }
    }

    static TimeSpan? RetryAfter(HttpResponseMessage response) => response.Headers.RetryAfter switch
    {
        { Delta: { } delta } => delta,
        { Date: { } date } => date - DateTimeOffset.UtcNow,
        _ => null,
    };
}
