using Npgsql;
using Streaming.EventStore;

namespace Streaming.Tests.EventStore;

/// <summary>
/// The end of the tail now: with positions ordered by commit nothing can still appear before it, so a test that starts
/// reading "from now" needs no settling.
/// </summary>
internal static class SettledTail
{
    public static Task<TailPosition> EndAsync(NpgsqlDataSource dataSource) =>
        new EventLog(dataSource).ReadTailEndAsync(CancellationToken.None);
}
