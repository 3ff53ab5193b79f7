using System.Text.Json;

namespace Streaming.Lifecycle.Breakers;

/// <summary>The stored form of <see cref="BreakerLedger"/> (JSON), saved with the checkpoint of the control partition by its owner.</summary>
public static class BreakerLedgerSnapshot
{
    sealed record Breaker(
        string Policy,
        string Phase,
        int Jobs,
        DateTimeOffset[] Demotions,
        DateTimeOffset? OpenSince,
        bool Tripped,
        int Changes,
        DateTimeOffset? RecordedOpenSince,
        Guid[] Unread);

    sealed record Stored(Breaker[] Breakers, DateTimeOffset? Clock, long ThroughCommit, long ThroughPosition);

    public static byte[] Write(BreakerLedger ledger) =>
        JsonSerializer.SerializeToUtf8Bytes(new Stored(
            [.. ledger.Breakers.Values.Select(t => new Breaker(t.Policy, t.Phase, t.Jobs, [.. t.Demotions], t.OpenSince, t.Tripped, t.Changes, t.RecordedOpenSince,
                [.. t.Unread.Order()]))],
            ledger.Clock, ledger.Through.Commit, ledger.Through.GlobalPosition));

    public static BreakerLedger Read(byte[] snapshot)
    {
        var stored = JsonSerializer.Deserialize<Stored>(snapshot);
        var ledger = new BreakerLedger { Clock = stored?.Clock, Through = (stored?.ThroughCommit ?? 0, stored?.ThroughPosition ?? 0) };
        foreach (var breaker in stored?.Breakers ?? [])
        {
            var tally = ledger.Tally(breaker.Policy, breaker.Phase);
            tally.Jobs = breaker.Jobs;
            tally.Demotions.AddRange(breaker.Demotions);
            tally.OpenSince = breaker.OpenSince;
            tally.Tripped = breaker.Tripped;
            tally.Changes = breaker.Changes;
            tally.RecordedOpenSince = breaker.RecordedOpenSince;
            tally.Unread.UnionWith(breaker.Unread);
        }
        return ledger;
    }
}
