using Npgsql;
using Streaming.EventStore;

namespace Streaming.Tests.EventStore;

public sealed class AppendOnlyTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    [Theory]
    [InlineData("update es.events set type = 'rewritten'")]
    [InlineData("update es.events set data = '{}' where false")]
    [InlineData("delete from es.events")]
    [InlineData("truncate es.events")]
    public async Task The_database_refuses_to_change_or_remove_stored_events(string sql)
    {
        var streamId = SampleEvents.NewStreamId("append-only");
        var streams = new EventStreams(database.DataSource);
        await streams.AppendToStreamAsync(streamId, ExpectedVersion.NoStream, SampleEvents.Events(3), CancellationToken.None);

        await using var command = database.DataSource.CreateCommand(sql);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());

        Assert.Contains("append-only", refused.MessageText, StringComparison.Ordinal);
        var stored = await streams.ReadStreamForwardAsync(streamId, 1, 10, CancellationToken.None);
        Assert.Equal([1L, 2L, 3L], stored.Select(e => e.Version));
        Assert.All(stored, e => Assert.Equal("something-happened", e.Type));
    }
}
