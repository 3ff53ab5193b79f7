using Npgsql;
using Streaming.Projections.Tail;

namespace Streaming.Tests.Tail;

/// <summary>The table <c>handled</c>: each event a test fold was handed, by subscription, written in the fold's transaction.</summary>
internal static class HandledEvents
{
    public static async Task CreateAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand(
            """
            create table if not exists handled (
                subscription text not null, event_id uuid not null, stream_id text not null, version bigint not null,
                primary key (subscription, event_id))
            """);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>The versions of <paramref name="streamId"/>'s events <paramref name="subscription"/> handled, in order.</summary>
    public static async Task<List<long>> VersionsAsync(NpgsqlDataSource dataSource, string subscription, string streamId)
    {
        await using var command = dataSource.CreateCommand("select version from handled where stream_id = $1 and subscription = $2 order by version");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = streamId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subscription });
        await using var reader = await command.ExecuteReaderAsync();
        var versions = new List<long>();
        while (await reader.ReadAsync())
        {
            versions.Add(reader.GetInt64(0));
        }
        return versions;
    }

    public static async Task RecordAsync(string subscription, IReadOnlyList<LogEvent> events, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "insert into handled (event_id, stream_id, version, subscription) select *, $4 from unnest($1, $2, $3)",
            transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<Guid[]> { TypedValue = events.Select(e => e.Event.EventId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = events.Select(e => e.StreamId).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = events.Select(e => e.Version).ToArray() });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = subscription });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
