using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;
using Streaming.Hosting.Resilience;
using Streaming.Hosting.Supervision;
using Streaming.Projections.Tail;

namespace Streaming.Projections.Ownership;

public static class OwnershipExtensions
{
    /// <summary>
    /// With <c>{section}:Enabled</c>, the process's tail follows the share of the log its role's group assigns it
    /// (group <paramref name="defaultGroup"/> unless <c>{section}:Group</c> names another); without, every partition, as one instance.
    /// Without <c>{section}:InstanceId</c>, a copy the supervisor started is a static member named by its index. In a sharded
    /// store the group is the shard's (<see cref="ServedShard.GroupOf"/>) and shares out the shard's partitions alone
    /// (<see cref="GroupTopic"/>), creating its topic when <c>Kafka:CreateTopics</c> is on.
    /// </summary>
    public static IHostApplicationBuilder AddPartitionOwnership(this IHostApplicationBuilder builder, string section, string role, string defaultGroup)
    {
        var options = new OwnershipOptions { Group = defaultGroup };
        builder.Configuration.GetSection(section).Bind(options);
        // Each shard's instances share that shard's partitions among themselves: a group per shard.
        var served = ServiceDefaults.ReadServedShard(builder.Configuration);
        options.Group = served.GroupOf(options.Group);
        if (string.IsNullOrWhiteSpace(options.InstanceId))
        {
            options.InstanceId = SupervisedInstance.MemberId(role);
        }
        if (!options.Enabled)
        {
            return builder;
        }
        if (!options.IsValid)
        {
            throw new InvalidOperationException($"{section}: Group must be named and DrainTimeout positive");
        }
        if (builder.Services.Any(d => d.ServiceType == typeof(PartitionOwnership)))
        {
            // One tail per process, so one share: the roles' groups would assign different ones.
            throw new InvalidOperationException(
                $"{section}: a process follows one group's share of the log; run the roles that own partitions as processes of their own");
        }
        builder.Services.AddSingleton(sp => new PartitionOwnership(
            options, sp.GetRequiredService<KafkaOptions>(), role, sp.GetRequiredService<ILogger<PartitionOwnership>>())
        {
            Served = served,
            Topics = sp.GetRequiredService<TopicProvisioner>(),
        });
        builder.Services.AddSingleton(sp => new ShareFollower(
            sp.GetRequiredService<LogTail>(),
            sp.GetRequiredService<PartitionOwnership>(),
            sp.GetRequiredService<NpgsqlDataSource>(),
            sp.GetRequiredService<KafkaOptions>().ConsumerSessionTimeout,
            sp.GetRequiredService<ILogger<ShareFollower>>(),
            sp.GetRequiredService<LoopHealth>()));
        return builder;
    }
}
