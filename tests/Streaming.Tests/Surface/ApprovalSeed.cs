using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts.Signals;
using Streaming.Promoter.Policies;
using Streaming.Tests.EndToEnd;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>
/// Jobs waiting at approval gates in the shared surface system, seeded once: two gates (labels gate=manual and
/// gate=fleet), each its own policy, so that approving one gate's batch leaves the other's jobs waiting.
/// </summary>
public static class ApprovalSeed
{
    public const string One = "gate-approve-one";
    public const string Page = "gate-approve-page";
    public const string Payments1 = "gate-approve-payments-1";
    public const string Payments2 = "gate-approve-payments-2";
    public const string Search = "gate-approve-search";
    public const string Fleet1 = "gate-approve-fleet-1";
    public const string Fleet2 = "gate-approve-fleet-2";

    static readonly SurfaceSeed Once = new(SeedAsync);

    static readonly (string Job, string Gate, string Team)[] Jobs =
    [
        (One, "manual", "core"), (Page, "manual", "core"), (Payments1, "manual", "payments"), (Payments2, "manual", "payments"),
        (Search, "manual", "search"), (Fleet1, "fleet", "core"), (Fleet2, "fleet", "core"),
    ];

    public static Task EnsureAsync(SurfaceSystem system, TimeSpan timeout) => Once.EnsureAsync(system, timeout);

    static async Task SeedAsync(SurfaceSystem system, TimeSpan timeout)
    {
        var publisher = system.Pipeline.DeciderServices.GetRequiredService<PolicyPublisher>();
        await publisher.PublishAsync(ApprovalTests.ManualGate, "tests", CancellationToken.None);
        await publisher.PublishAsync(ApprovalTests.ManualGate.Replace("name: manual-gate", "name: fleet-gate", StringComparison.Ordinal)
            .Replace("gate: manual", "gate: fleet", StringComparison.Ordinal), "tests", CancellationToken.None);
        using var producer = SignalFactory.Producer(system.Pipeline.Kafka.BootstrapServers);
        producer.Produce(Jobs.SelectMany(j => SignalFactory.Minutes(j.Job, 0, 9, "shadow", SignalFactory.Good)
            .Select(s => s with { Labels = new Dictionary<string, string> { ["gate"] = j.Gate, ["team"] = j.Team } })));
        await Eventually.True(async () => await system.CountAsync(
                $"select count(*) from projections.job_states where job_id like 'gate-approve-%' and 'awaiting-approval' = any(flags) and last_seq = 9") == Jobs.Length,
            timeout, "every seeded job to wait for approval");
    }
}
