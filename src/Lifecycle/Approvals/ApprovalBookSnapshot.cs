using System.Text.Json;

namespace Streaming.Lifecycle.Approvals;

/// <summary>The stored form of an <see cref="ApprovalBook"/> (JSON), saved with the Promoter's checkpoint.</summary>
public static class ApprovalBookSnapshot
{
    public static byte[] Write(ApprovalBook book) => JsonSerializer.SerializeToUtf8Bytes(book.Pending.Values.ToArray());

    public static ApprovalBook Read(byte[] snapshot)
    {
        var book = new ApprovalBook();
        foreach (var pending in JsonSerializer.Deserialize<PendingApproval[]>(snapshot) ?? [])
        {
            book.Restore(pending);
        }
        return book;
    }
}
