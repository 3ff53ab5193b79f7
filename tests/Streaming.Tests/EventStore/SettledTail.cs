using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Tail;

namespace Streaming.Tests.EventStore;

/// <summary>
/// The end of the tail now, in every partition of the store: with positions ordered by commit nothing can still appear
/// before it, so a test that starts reading "from now" needs no settling.
/// </summary>
internal static class SettledTail
{
    public static async Task<LogPositions> EndAsync(NpgsqlDataSource dataSource) =>
        await new EventLog(dataSource).ReadTailEndAsync((await FollowedPartitions.ReadAsync(dataSource, CancellationToken.None)).Read, CancellationToken.None);

    /// <summary>The saved checkpoint of <paramref name="name"/> in <paramref name="partition"/>, or null when none was saved there.</summary>
    public static async Task<TailPosition?> CheckpointAsync(NpgsqlDataSource dataSource, string name, int partition = 0)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        return (await Checkpoints.LoadAsync(connection, name, [partition], CancellationToken.None)).TryGetValue(partition, out var at) ? at : null;
    }
}
