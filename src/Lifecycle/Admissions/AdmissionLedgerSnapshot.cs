using System.Text.Json;

namespace Streaming.Lifecycle.Admissions;

/// <summary>The stored form of <see cref="AdmissionLedger"/> (JSON), saved with the checkpoint of the control partition by its owner.</summary>
public static class AdmissionLedgerSnapshot
{
    sealed record Gate(string Policy, string Phase, DateTimeOffset[] Grants);

    sealed record Stored(AdmissionEntry[] Entries, Gate[] Gates);

    public static byte[] Write(AdmissionLedger ledger) =>
        JsonSerializer.SerializeToUtf8Bytes(new Stored(
            [.. ledger.Entries.OrderBy(e => e.JobId, StringComparer.Ordinal)],
            [.. ledger.Gates.Values.Where(g => g.Grants.Count > 0).Select(g => new Gate(g.Policy, g.Phase, [.. g.Grants]))]));

    public static AdmissionLedger Read(byte[] snapshot)
    {
        var ledger = new AdmissionLedger();
        var stored = JsonSerializer.Deserialize<Stored>(snapshot);
        foreach (var entry in stored?.Entries ?? [])
        {
            ledger.Restore(entry);
        }
        foreach (var gate in stored?.Gates ?? [])
        {
            var slots = ledger.Slots(gate.Policy, gate.Phase);
            foreach (var at in gate.Grants)
            {
                slots.Grants.Enqueue(at);
            }
        }
        return ledger;
    }
}
