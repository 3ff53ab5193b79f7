using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts.Signals;
using Streaming.Lifecycle;
using Streaming.Promoter.Policies;
using Streaming.Tests.EndToEnd;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>Jobs waiting for approval, as the scraped <c>/metrics</c> counts them: up when they wait, down once an approval is used.</summary>
[Collection(SurfaceCollection.Name)]
public sealed class ApprovalGaugeTests(SurfaceSystem system)
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    const string Policy = "gauge-gate";
    static readonly string[] Jobs = ["gauge-approve-1", "gauge-approve-2"];

    [Fact]
    public async Task Jobs_awaiting_approval_show_on_metrics_and_the_count_falls_once_an_approval_is_used()
    {
        // Given an approval gate of its own, and what /metrics counts as awaiting approval before any of its jobs qualifies
        var published = await system.Pipeline.DeciderServices.GetRequiredService<PolicyPublisher>().PublishAsync(
            ApprovalTests.ManualGate.Replace("name: manual-gate", $"name: {Policy}", StringComparison.Ordinal).Replace("gate: manual", "gate: gauge", StringComparison.Ordinal),
            "tests", CancellationToken.None);
        Assert.NotEqual(PolicyPublicationOutcome.Rejected, published.Outcome);
        using var viewer = system.Client("viewer");
        // (The flag's count is the whole fleet's, which other tests of this system change: only its presence and a floor are asserted.)
        await Eventually.Get(async () => Sample(await viewer.GetStringAsync("/metrics"), "streaming_jobs_flagged", ("flag", LifecycleFlags.AwaitingApproval)),
            v => v is not null, Timeout, "the awaiting-approval series on /metrics, zero or not");
        Assert.Equal(0, Waiting(await viewer.GetStringAsync("/metrics"), "requested"));

        // When two jobs pass the gate's criteria
        using var producer = SignalFactory.Producer(system.Pipeline.Kafka.BootstrapServers);
        producer.Produce(Jobs.SelectMany(job => Signals(job, 0, 9)));

        // Then both are counted as waiting: by policy, gate and state, and among the fleet's jobs flagged so
        await Eventually.True(async () =>
            {
                var metrics = await viewer.GetStringAsync("/metrics");
                return Sample(metrics, "streaming_jobs_flagged", ("flag", LifecycleFlags.AwaitingApproval)) >= 2 && Waiting(metrics, "requested") == 2;
            },
            Timeout, "two more jobs awaiting approval on /metrics");

        // When an operator approves one, it is counted as approved and still waiting for its move
        using var operatorClient = system.Client("operator");
        var approved = await operatorClient.PostAsJsonAsync($"/api/v1/jobs/{Jobs[0]}/approve", new { reason = "gauge checked" });
        Assert.Equal(HttpStatusCode.Created, approved.StatusCode);
        await Eventually.True(async () =>
            {
                var metrics = await viewer.GetStringAsync("/metrics");
                return Waiting(metrics, "requested") == 1 && Waiting(metrics, "approved") == 1;
            },
            Timeout, "one job requested and one approved on /metrics");

        // When its next signal uses the approval to promote it, the gate's count falls by one; the other job still waits
        producer.Produce(Signals(Jobs[0], 9, 1));
        await Eventually.True(async () =>
            {
                var metrics = await viewer.GetStringAsync("/metrics");
                return Waiting(metrics, "requested") == 1 && Waiting(metrics, "approved") == 0;
            },
            Timeout, "the promoted job no longer counted as awaiting approval");
        Assert.Equal("reverse_shadow", await new StoreProbe(system.Database).PhaseAsync(Jobs[0]));
    }

    static IEnumerable<JobSignal> Signals(string job, int from, int minutes) =>
        SignalFactory.Minutes(job, from, minutes, "shadow", SignalFactory.Good).Select(s => s with { Labels = new Dictionary<string, string> { ["gate"] = "gauge" } });

    // The Promoter's gauge for this test's gate; a state with no job has no series, which counts as none.
    static double Waiting(string exposition, string state) =>
        Sample(exposition, "streaming_approvals_waiting", ("policy", Policy), ("gate", "shadow->reverse_shadow"), ("state", state)) ?? 0;

    /// <summary>The value of the one sample of <paramref name="metric"/> carrying every label given (null when there is none).</summary>
    static double? Sample(string exposition, string metric, params (string Name, string Value)[] labels)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith(metric + "{", StringComparison.Ordinal))
            {
                continue;
            }
            var close = line.LastIndexOf('}');
            var present = line[(metric.Length + 1)..close];
            if (labels.All(l => present.Contains($"{l.Name}=\"{l.Value}\"", StringComparison.Ordinal)))
            {
                return double.Parse(line[(close + 1)..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
            }
        }
        return null;
    }
}
