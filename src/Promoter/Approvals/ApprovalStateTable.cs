using System.Text;
using Npgsql;
using Streaming.Lifecycle.Approvals;

namespace Streaming.Promoter.Approvals;

/// <summary>The jobs waiting for approval (<c>promoter.approval_state</c>, one JSON row), saved with the decisions' checkpoint; migration 62.</summary>
public static class ApprovalStateTable
{
    public static async Task<ApprovalBook?> LoadAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select snapshot::text from promoter.approval_state where id = 1");
        return await command.ExecuteScalarAsync(cancellationToken) is string json ? ApprovalBookSnapshot.Read(Encoding.UTF8.GetBytes(json)) : null;
    }

    /// <summary>The book as it is now, serialized, so the write may run beside the fold, and be run again, with the same row.</summary>
    public static Func<NpgsqlTransaction, CancellationToken, Task> PrepareSave(ApprovalBook book)
    {
        var snapshot = Encoding.UTF8.GetString(ApprovalBookSnapshot.Write(book));
        return async (transaction, cancellationToken) =>
        {
            await using var command = new NpgsqlCommand(
                """
                insert into promoter.approval_state (id, snapshot, updated_at) values (1, @snapshot::jsonb, now())
                on conflict (id) do update set snapshot = excluded.snapshot, updated_at = now()
                """, transaction.Connection, transaction);
            command.Parameters.Add(new NpgsqlParameter<string>("snapshot", snapshot));
            await command.ExecuteNonQueryAsync(cancellationToken);
        };
    }
}
