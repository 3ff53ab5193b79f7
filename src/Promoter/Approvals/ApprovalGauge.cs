using System.Diagnostics.Metrics;
using Streaming.Hosting.Telemetry;
using Streaming.Lifecycle.Approvals;

namespace Streaming.Promoter.Approvals;

/// <summary>
/// The jobs waiting for approval as a gauge (<c>streaming.approvals.waiting</c>, by policy, gate and whether approved yet),
/// as of the decisions fold's last save: the fold's loop hands over counts, the meter's thread reads them.
/// </summary>
public sealed class ApprovalGauge
{
    Measurement<int>[] _current = [];

    public ApprovalGauge(IMeterFactory meters) =>
        meters.Create(StreamingTelemetry.MeterName).CreateObservableGauge("streaming.approvals.waiting", () => Volatile.Read(ref _current),
            "{job}", "Jobs whose criteria passed a gate that needs approval, waiting for it (approved: waiting for the move), by policy and gate");

    public void Observe(ApprovalBook book)
    {
        var counts = book.Pending.Values
            .GroupBy(p => (p.PolicyName, Gate: $"{p.From}->{p.To}", State: p.Grant is null ? "requested" : "approved"))
            .Select(g => new Measurement<int>(g.Count(),
                new KeyValuePair<string, object?>("policy", g.Key.PolicyName),
                new KeyValuePair<string, object?>("gate", g.Key.Gate),
                new KeyValuePair<string, object?>("state", g.Key.State)));
        Volatile.Write(ref _current, [.. counts]);
    }
}
