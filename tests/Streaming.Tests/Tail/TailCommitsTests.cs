using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Streaming.EventStore;
using Streaming.Projections.Tail;
using Streaming.Tests.EventStore;

namespace Streaming.Tests.Tail;

/// <summary>
/// The tail's guard against a log that lost asynchronous commits in a crash (<see cref="TailCommits"/>): the last commit
/// read is checked after an outage, and a commit that is gone, or whose number was reused, stops the reader.
/// </summary>
public sealed class TailCommitsTests
{
    [Fact]
    public async Task A_commit_still_in_the_log_as_it_was_read_passes()
    {
        await using var database = new MigratedDatabase();
        await database.InitializeAsync();
        var commits = await ReadEverythingAsync(database.DataSource, appends: 2);

        await commits.VerifyAsync(new EventLog(database.DataSource), CancellationToken.None);

        Assert.Equal(2, commits.Last[0].Commit);
    }

    [Fact]
    public async Task A_commit_number_reused_by_another_commit_stops_the_reader()
    {
        await using var database = new MigratedDatabase();
        await database.InitializeAsync();
        var commits = await ReadEverythingAsync(database.DataSource, appends: 2);

        // What a crash that lost commit 2 leaves once a later transaction takes the number again: another commit time.
        await ExecuteAsync(database.DataSource, "update es.commits set committed_at = committed_at + interval '1 millisecond' where commit = 2");

        var rewound = await Assert.ThrowsAsync<LogRewoundException>(() => commits.VerifyAsync(new EventLog(database.DataSource), CancellationToken.None));
        Assert.Equal(2, rewound.Commit);
    }

    [Fact]
    public async Task A_commit_that_is_gone_stops_the_reader()
    {
        await using var database = new MigratedDatabase();
        await database.InitializeAsync();
        var commits = await ReadEverythingAsync(database.DataSource, appends: 3);

        await ExecuteAsync(database.DataSource, "delete from es.commits where commit = 3");

        await Assert.ThrowsAsync<LogRewoundException>(() => commits.VerifyAsync(new EventLog(database.DataSource), CancellationToken.None));
    }

    static async Task<TailCommits> ReadEverythingAsync(NpgsqlDataSource dataSource, int appends)
    {
        var streams = new EventStreams(dataSource);
        for (var i = 0; i < appends; i++)
        {
            await streams.AppendToStreamAsync(SampleEvents.NewStreamId("read"), ExpectedVersion.NoStream, SampleEvents.Events(2), CancellationToken.None);
        }
        var source = new LogSource(dataSource, NullLogger.Instance);
        var commits = new TailCommits();
        var batch = await source.ReadAsync(LogPositions.Start(1), archive: false, CancellationToken.None);
        commits.Read(batch);
        Assert.Equal(appends * 2, batch.Count);
        return commits;
    }

    static async Task ExecuteAsync(NpgsqlDataSource dataSource, string sql)
    {
        await using var command = dataSource.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
