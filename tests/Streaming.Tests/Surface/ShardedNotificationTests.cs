using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.Api.Notifications;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>The API's notification rules over two shards: the flagged and the quarantined jobs of both are counted and told, once.</summary>
public sealed class ShardedNotificationTests(TwoShardApi api) : IClassFixture<TwoShardApi>
{
    [Fact]
    public async Task The_flag_rules_count_and_tell_the_flagged_jobs_of_every_shard_once()
    {
        // Given a job of each shard that the Projector flagged stuck, and one of each that is not
        var jobs = ListedJob.Many(12);
        var stuck = new[] { jobs.First(j => TwoShardStore.ShardOf(j.Id) == 0).Id, jobs.First(j => TwoShardStore.ShardOf(j.Id) == 1).Id };
        foreach (var shard in Enumerable.Range(0, 2))
        {
            await ListedJob.WriteAsync(api.Shards.All[shard], [.. jobs.Where(j => TwoShardStore.ShardOf(j.Id) == shard)], version: 1);
        }
        foreach (var job in stuck)
        {
            await using var flag = api.Shards.DataSourceOfJob(job).CreateCommand("update projections.job_states set flags = array_append(flags, $2) where job_id = $1");
            flag.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job });
            flag.Parameters.Add(new NpgsqlParameter<string> { TypedValue = LifecycleFlags.Stuck });
            Assert.Equal(1, await flag.ExecuteNonQueryAsync());
        }

        // When the rules are checked, twice
        var checks = api.Services.GetServices<IHostedService>().OfType<NotificationChecks>().Single();
        await checks.CheckAsync(CancellationToken.None);
        await checks.CheckAsync(CancellationToken.None);

        // Then the stuck count is both shards' jobs, and one notification names both, remembered as told
        Assert.Equal(2, api.Services.GetRequiredService<NotificationMetrics>().Flags[LifecycleFlags.Stuck]);
        await using var told = api.Shards.Control.CreateCommand(
            "select details->>'count', (details->'jobs')::text from notifications.notifications where rule = $1");
        told.Parameters.Add(new NpgsqlParameter<string> { TypedValue = LifecycleFlags.Stuck });
        await using var reader = await told.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), "no stuck notification");
        Assert.Equal("2", reader.GetString(0));
        Assert.Equal(stuck.Order(StringComparer.Ordinal), System.Text.Json.JsonSerializer.Deserialize<string[]>(reader.GetString(1))!.Order(StringComparer.Ordinal));
        Assert.False(await reader.ReadAsync(), "the second check told the same jobs again");
    }

    [Fact]
    public async Task A_quarantine_on_either_shard_is_told_once_from_shard_0()
    {
        // Given a job of each shard whose Promoter recorded a move that quarantines it
        var jobs = Enumerable.Range(1, 50).Select(i => $"quarantined-{i}").GroupBy(TwoShardStore.ShardOf).OrderBy(g => g.Key).Select(g => g.First()).ToList();
        foreach (var job in jobs)
        {
            var change = new PhaseChanged(EventIds.ForDecision(job, 1), job, "reverse_shadow", "shadow", PhaseDirection.Demote, "flapping", DateTimeOffset.UtcNow,
                "cdc-migration@1", 1, 1, 1, [], Quarantined: true);
            await api.Shards.StreamsOfJob(job).AppendToStreamAsync(job, ExpectedVersion.NoStream,
                [new EventToAppend(change.EventId, PhaseChanged.EventType, ContractsJson.Serialize(change), ContractsJson.Serialize(new EventMetadata(null, null)), change.DecidedAt)],
                CancellationToken.None);
        }

        // Then each is told once, in shard 0's outbox, by the tail of its own shard's log
        await Eventually.True(async () => await CountAsync(jobs, "quarantined") == jobs.Count, TimeSpan.FromSeconds(60), "a quarantine notification for the job of each shard");
        Assert.Equal(jobs.Count, await CountAsync(jobs, "quarantined"));
    }

    async Task<long> CountAsync(IReadOnlyList<string> jobs, string rule)
    {
        await using var command = api.Shards.Control.CreateCommand("select count(*) from notifications.notifications where rule = $1 and subject = any($2)");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = rule });
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. jobs] });
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
