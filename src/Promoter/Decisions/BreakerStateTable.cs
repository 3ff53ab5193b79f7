using System.Text;
using Npgsql;
using Streaming.Lifecycle.Breakers;

namespace Streaming.Promoter.Decisions;

/// <summary>The fleet's breakers in Owner mode (<c>promoter.breaker_state</c>), saved by the owner of the control partition with its checkpoint; migration 68.</summary>
public static class BreakerStateTable
{
    public static async Task<BreakerLedger?> LoadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        await SnapshotRow.Breakers.ReadAsync(dataSource, cancellationToken) is { } json ? BreakerLedgerSnapshot.Read(Encoding.UTF8.GetBytes(json)) : null;

    /// <summary>The ledger serialized now, for a write that may run later, beside the fold.</summary>
    public static Func<NpgsqlTransaction, CancellationToken, Task> PrepareSave(BreakerLedger ledger)
    {
        var json = Encoding.UTF8.GetString(BreakerLedgerSnapshot.Write(ledger));
        return (transaction, cancellationToken) => SnapshotRow.Breakers.WriteAsync(transaction, json, cancellationToken);
    }
}
