using System.Text;
using Npgsql;
using Streaming.Lifecycle.Approvals;
using Streaming.Promoter.Decisions;

namespace Streaming.Promoter.Approvals;

/// <summary>The jobs waiting for approval (<c>promoter.approval_state</c>, one JSON row), saved with the decisions' checkpoint; migration 62.</summary>
public static class ApprovalStateTable
{
    public static async Task<ApprovalBook?> LoadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        return await SnapshotRow.Approvals.ReadAsync(dataSource, cancellationToken) is { } json ? ApprovalBookSnapshot.Read(Encoding.UTF8.GetBytes(json)) : null;
    }

    /// <summary>The book as it is now, serialized, so the write may run beside the fold, and be run again, with the same row.</summary>
    public static Func<NpgsqlTransaction, CancellationToken, Task> PrepareSave(ApprovalBook book)
    {
        var snapshot = Encoding.UTF8.GetString(ApprovalBookSnapshot.Write(book));
        return (transaction, cancellationToken) => SnapshotRow.Approvals.WriteAsync(transaction, snapshot, cancellationToken);
    }
}
