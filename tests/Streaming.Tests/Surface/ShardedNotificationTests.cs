using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using Streaming.Api.Notifications;
using Streaming.Lifecycle;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>The API's notification rules over two shards: the flagged jobs of both are counted and told, once.</summary>
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
}
