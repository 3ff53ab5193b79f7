using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Streaming.Bench.Workload;

namespace Streaming.Bench.Surface;

/// <summary>
/// Measures the API and the fleet page's live path on a running all-in-one process whose store holds the workload's
/// jobs, while ingest runs: a subset of the jobs keeps reporting (minutes after the workload's last) long enough for
/// the policy to promote them, so decisions are made during the measurement. Three readers ask side by side: the jobs
/// page (50 rows, sorts and filters in turn, keyset pages), a random job's detail, and the fleet summary (spaced past
/// its one-second cache, so each is computed afresh). A fourth does what an open fleet page does: it listens to the
/// server-sent events and, on each, fetches the decision feed; a decision's delay is from its commit in the store to
/// the feed answer that first contains it.
/// </summary>
public static class SurfaceRun
{
    const int ReportingJobs = 2_000;
    const int FirstMinute = 10;
    const int LastMinute = 40;

    public static async Task<SurfaceResult> RunAsync(string endpointsFile, string bootstrap, SignalWorkload workload, int messages, CancellationToken cancellationToken)
    {
        using var endpoints = JsonDocument.Parse(await File.ReadAllTextAsync(endpointsFile, cancellationToken));
        var baseUrl = new Uri(endpoints.RootElement.GetProperty("httpUrl").GetString()!);
        var tokens = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(endpoints.RootElement.GetProperty("tokensFile").GetString()!, cancellationToken))!;
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens["viewer"]);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var clock = Stopwatch.StartNew();
        var produced = Task.Run(() => Produce(bootstrap, workload, messages / workload.Jobs, stop.Token), stop.Token);
        var feed = WatchFeedAsync(http, DateTimeOffset.UtcNow, stop.Token);
        var jobsPage = SampleAsync(http, i => JobsPage(i), TimeSpan.FromMilliseconds(100), stop.Token);
        var detail = SampleAsync(http, i => $"/api/v1/jobs/{Uri.EscapeDataString(SignalWorkload.JobId(Random.Shared.Next(workload.Jobs)))}", TimeSpan.FromMilliseconds(100), stop.Token);
        var summary = SampleAsync(http, _ => "/api/v1/fleet/summary", TimeSpan.FromMilliseconds(1_100), stop.Token);
        var signals = await produced;
        // Let the last promotions be decided and reach the feed.
        await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
        await stop.CancelAsync();
        return new SurfaceResult(workload.Jobs, Latency.Of(await jobsPage), Latency.Of(await detail), Latency.Of(await summary), Latency.Of(await feed),
            signals, clock.Elapsed.TotalSeconds);
    }

    static string JobsPage(int i) => (i % 4) switch
    {
        0 => "/api/v1/jobs?limit=50",
        1 => "/api/v1/jobs?limit=50&sort=signal&order=desc",
        2 => "/api/v1/jobs?limit=50&phase=reverse_shadow",
        _ => $"/api/v1/jobs?limit=50&prefix=bench-orders-{i % 97}",
    };

    // The reporting jobs' next minutes, paced a little under what the pipeline stores, so ingest runs throughout. The
    // jobs start in 20 groups a step apart, so their promotions (at their 30th minute) come in 20 waves, not one.
    static long Produce(string bootstrap, SignalWorkload workload, int firstMinute, CancellationToken cancellationToken)
    {
        const int Groups = 20;
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = bootstrap, LingerMs = 10, EnableIdempotence = true }).Build();
        long count = 0;
        var from = Math.Max(FirstMinute, firstMinute);
        var pace = Stopwatch.StartNew();
        for (var step = 0; step <= LastMinute - from + Groups && !cancellationToken.IsCancellationRequested; step++)
        {
            for (var job = 0; job < ReportingJobs; job++)
            {
                var minute = from + step - job % Groups;
                if (minute < from || minute > LastMinute)
                {
                    continue;
                }
                var (key, value) = workload.Message((long)minute * workload.Jobs + job);
                producer.Produce("job-signals", new Message<string, byte[]> { Key = key, Value = value });
                count++;
            }
            producer.Flush(TimeSpan.FromSeconds(30));
            // About 1,500 signals a second: a steady load beside the readers, well inside what the pipeline stores.
            var due = TimeSpan.FromSeconds(count / 1_500.0);
            if (pace.Elapsed < due)
            {
                Thread.Sleep(due - pace.Elapsed);
            }
        }
        return count;
    }

    static async Task<List<double>> SampleAsync(HttpClient http, Func<int, string> path, TimeSpan spacing, CancellationToken cancellationToken)
    {
        var latencies = new List<double>();
        for (var i = 0; !cancellationToken.IsCancellationRequested; i++)
        {
            var timer = Stopwatch.StartNew();
            try
            {
                using var response = await http.GetAsync(path(i), HttpCompletionOption.ResponseContentRead, cancellationToken);
                response.EnsureSuccessStatusCode();
                latencies.Add(timer.Elapsed.TotalMilliseconds);
                await Task.Delay(spacing, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
        }
        return latencies;
    }

    // What an open fleet page does: on each server-sent event, fetch the feed; note when each new decision first shows.
    static async Task<List<double>> WatchFeedAsync(HttpClient http, DateTimeOffset since, CancellationToken cancellationToken)
    {
        var delays = new List<double>();
        var seen = new HashSet<Guid>();
        try
        {
            using var response = await http.GetAsync("/api/v1/live", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken));
            while (await reader.ReadLineAsync(cancellationToken) is { } line)
            {
                if (!line.StartsWith("data:", StringComparison.Ordinal) || line.Contains("heartbeat", StringComparison.Ordinal))
                {
                    continue;
                }
                var page = (await http.GetFromJsonAsync<JsonObject>("/api/v1/decisions?limit=500", cancellationToken))!;
                var now = DateTimeOffset.UtcNow;
                foreach (var decision in page["decisions"]!.AsArray())
                {
                    var recordedAt = decision!["recordedAt"]!.GetValue<DateTimeOffset>();
                    if (recordedAt >= since && seen.Add(decision["eventId"]!.GetValue<Guid>()))
                    {
                        delays.Add((now - recordedAt).TotalMilliseconds);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        return delays;
    }
}
