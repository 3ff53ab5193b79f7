using Npgsql;
using Streaming.EventStore;
using Streaming.Ingest.Appending;

namespace Streaming.Tests.EventStore;

public sealed class LogWakeupTests
{
    static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Each_committed_append_wakes_the_logs_listeners_whichever_way_it_was_written()
    {
        await using var database = new MigratedDatabase();
        await database.InitializeAsync();
        await using var listener = await ListenerAsync(database.DataSource);

        // Given nothing was appended, a commit that only moves offsets wakes nobody
        await new SignalLog(database.DataSource).AppendSignalsAsync([], [new KafkaOffsetAdvance("g", "job-signals", 0, null, 1)], CancellationToken.None);
        Assert.False(await listener.WaitAsync(TimeSpan.FromMilliseconds(200)), "a commit that appended nothing woke the listeners");

        // When an append commits through each path, the listeners are woken
        await new EventStreams(database.DataSource).AppendToStreamAsync(SampleEvents.NewStreamId("job"), ExpectedVersion.Any, SampleEvents.Events(1), CancellationToken.None);
        Assert.True(await listener.WaitAsync(Patience), "an EventStreams append did not wake the listeners");

        await new SignalLog(database.DataSource).AppendSignalsAsync([SampleEvents.Signal(SampleEvents.NewStreamId("job"), 1)], [], CancellationToken.None);
        Assert.True(await listener.WaitAsync(Patience), "a SignalLog append did not wake the listeners");

        await using (var insert = database.DataSource.CreateCommand("""
            insert into es.events (stream_id, version, event_id, type, data, metadata, event_time)
            values ($1, 1, gen_random_uuid(), 'raw-event', '{}', '{}', now())
            """))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SampleEvents.NewStreamId("raw") });
            await insert.ExecuteNonQueryAsync();
        }
        Assert.True(await listener.WaitAsync(Patience), "a raw insert, whose commit the trigger records, did not wake the listeners");
    }

    static async Task<NpgsqlConnection> ListenerAsync(NpgsqlDataSource dataSource)
    {
        var connection = await dataSource.OpenConnectionAsync();
        await using var listen = new NpgsqlCommand("listen " + EventStoreSchema.NotificationChannel, connection);
        await listen.ExecuteNonQueryAsync();
        return connection;
    }
}
