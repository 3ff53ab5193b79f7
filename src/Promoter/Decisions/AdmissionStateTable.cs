using System.Text;
using Npgsql;
using Streaming.Lifecycle.Admissions;

namespace Streaming.Promoter.Decisions;

/// <summary>The waves' slots in Owner mode (<c>promoter.admission_state</c>), saved by the owner of the control partition with its checkpoint; migration 67.</summary>
public static class AdmissionStateTable
{
    public static async Task<AdmissionLedger?> LoadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        await SnapshotRow.Admissions.ReadAsync(dataSource, cancellationToken) is { } json ? AdmissionLedgerSnapshot.Read(Encoding.UTF8.GetBytes(json)) : null;

    /// <summary>The ledger serialized now, for a write that may run later, beside the fold.</summary>
    public static Func<NpgsqlTransaction, CancellationToken, Task> PrepareSave(AdmissionLedger ledger)
    {
        var json = Encoding.UTF8.GetString(AdmissionLedgerSnapshot.Write(ledger));
        return (transaction, cancellationToken) => SnapshotRow.Admissions.WriteAsync(transaction, json, cancellationToken);
    }
}
