using Npgsql;
using Streaming.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EventStore;

/// <summary>
/// The end of the tail once every committed event is readable. Open transactions anywhere on the server (other test
/// classes' databases included) can briefly hold committed events back from the tail, so a test that starts reading
/// "from now" waits for that first.
/// </summary>
internal static class SettledTail
{
    public static async Task<TailPosition> EndAsync(NpgsqlDataSource dataSource)
    {
        var log = new EventLog(dataSource);
        var position = TailPosition.Start;
        await Eventually.True(async () =>
        {
            IReadOnlyList<RecordedEvent> batch;
            while ((batch = await log.ReadTailAsync(position, 1000, CancellationToken.None)).Count > 0)
            {
                position = batch[^1].Position;
            }
            return !await log.IsHeldBackAsync(position, CancellationToken.None);
        }, TimeSpan.FromSeconds(30), "the tail to settle");
        return position;
    }
}
