using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Streaming.EventStore;
using Streaming.Hosting.Kafka;

namespace Streaming.Projections.Ownership;

/// <summary>
/// A role's share of the log's partitions, assigned by Kafka's consumer-group protocol: a consumer of the role's own
/// group subscribed to its <see cref="GroupTopic"/> (<c>job-signals</c>, or in a sharded store the served shard's own)
/// for the assignment alone (cooperative-sticky, optionally static membership). It never fetches a record: every
/// assigned partition is paused at once, and it is polled on a thread of its own only to keep its membership. What it
/// owns is said in log partitions, those its assigned partitions stand for. A revoke waits, within <see cref="OwnershipOptions.DrainTimeout"/>,
/// until the process says it has stopped working on what it follows (<see cref="Release"/>) before giving the
/// partitions up; partitions lost (the session timed out) are given up at once, since another member may own them already.
/// </summary>
public sealed partial class PartitionOwnership : IDisposable
{
    static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(200);
    static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);

    readonly OwnershipOptions _options;
    readonly KafkaOptions _kafka;
    readonly string _role;
    readonly ILogger _logger;
    readonly Lock _lock = new();
    readonly SortedSet<int> _owned = [];
    readonly List<TaskCompletionSource> _releases = [];
    TaskCompletionSource _changed = NewSignal();
    GroupTopic? _topic;
    IConsumer<Ignore, Ignore>? _consumer;
    Thread? _polling;
    volatile bool _stopping;
    volatile Exception? _failure;
    bool _closed;

    public PartitionOwnership(OwnershipOptions options, KafkaOptions kafka, string role, ILogger<PartitionOwnership> logger)
    {
        if (!options.IsValid)
        {
            throw new ArgumentException("The ownership options are out of range", nameof(options));
        }
        _options = options;
        _kafka = kafka;
        _role = role;
        _logger = logger;
    }

    public string Group => _options.Group;

    /// <summary>The shard the process serves: in a sharded store the group shares out that shard's partitions alone.</summary>
    public ServedShard Served { get; init; } = ServedShard.Single;

    /// <summary>Creates a sharded store's group topic when it is missing and <c>Kafka:CreateTopics</c> is on; none, nothing is created.</summary>
    public TopicProvisioner? Topics { get; init; }

    /// <summary>What the group assigns to this instance now, and a task that completes when that changes.</summary>
    public OwnedShare Current
    {
        get
        {
            lock (_lock)
            {
                return new OwnedShare(new SortedSet<int>(_owned), _changed.Task);
            }
        }
    }

    /// <summary>
    /// Joins the group. Fails when its topic (<see cref="GroupTopic.Of"/>) does not have a partition for each log partition
    /// it stands for: <c>job-signals</c> one for each of the log's <paramref name="logPartitions"/>, a shard's group topic
    /// one for each of the shard's.
    /// </summary>
    public async Task StartAsync(int logPartitions, CancellationToken cancellationToken)
    {
        var topic = GroupTopic.Of(Served, _kafka, logPartitions);
        if (Served.IsSharded && Topics is { } topics)
        {
            await topics.EnsureTopicAsync(topic.Name, topic.Partitions, cancellationToken);
        }
        _topic = topic;
        var config = KafkaClientConfig.Consumer(_kafka, $"{_role}-ownership", _options.Group);
        config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
        config.GroupInstanceId = string.IsNullOrWhiteSpace(_options.InstanceId) ? null : _options.InstanceId;
        // It never reads: what a partition fetches between its assignment and its pause is small and dropped.
        config.AutoOffsetReset = AutoOffsetReset.Latest;
        config.QueuedMaxMessagesKbytes = 64;
        var consumer = new ConsumerBuilder<Ignore, Ignore>(config)
            .SetPartitionsAssignedHandler((_, assigned) => Assigned(assigned))
            .SetPartitionsRevokedHandler((_, revoked) => Revoked(revoked))
            .SetPartitionsLostHandler((_, lost) => Lost(lost))
            .SetErrorHandler((_, error) => LogKafkaError(_logger, _options.Group, error.Code, error.Reason))
            .SetLogHandler((_, _) => { })
            .Build();
        try
        {
            var topicPartitions = PartitionsOf(consumer, topic.Name);
            if (topicPartitions != topic.Partitions)
            {
                throw new InvalidOperationException(Served.IsSharded
                    ? $"'{topic.Name}' has {topicPartitions} partitions and {Served} holds {topic.Partitions} of the log's {logPartitions}: the group's " +
                      "partition i is the shard's i-th log partition, so the two counts must be equal (Kafka:ShardGroupTopic, Store:LogPartitions)"
                    : $"'{topic.Name}' has {topicPartitions} partitions and the store's log {logPartitions}: a group's Kafka partition k is log " +
                      "partition k, so the two counts must be equal (Kafka:Partitions, Store:LogPartitions)");
            }
            consumer.Subscribe(topic.Name);
        }
        catch
        {
            consumer.Dispose();
            throw;
        }
        _consumer = consumer;
        _polling = new Thread(Poll) { IsBackground = true, Name = $"{_role} ownership" };
        _polling.Start();
        LogJoining(_logger, _role, _options.Group, _options.InstanceId ?? "(dynamic)", topic.Name);
        if (Served.IsSharded)
        {
            LogShardTopic(_logger, _options.Group, Served.ToString(), topic.Name, topic.ToString());
        }
    }

    /// <summary>The process stopped working on the partitions taken away so far: their revokes may complete.</summary>
    public void Release()
    {
        lock (_lock)
        {
            ReleaseTaken();
        }
    }

    /// <summary>
    /// As <see cref="Release"/>, if nothing was assigned or taken away since <paramref name="share"/> was read: the process,
    /// still working on that share, is not working on what was revoked before it. False, nothing released, otherwise.
    /// </summary>
    public bool ReleaseIfCurrent(OwnedShare share)
    {
        lock (_lock)
        {
            if (share.Changed != _changed.Task)
            {
                return false;
            }
            ReleaseTaken();
            return true;
        }
    }

    // Under the lock.
    void ReleaseTaken()
    {
        foreach (var release in _releases)
        {
            release.TrySetResult();
        }
        _releases.Clear();
    }

    /// <summary>Leaves the group (its partitions go to the other members at once) and stops polling.</summary>
    public void Close()
    {
        if (_closed)
        {
            return;
        }
        _closed = true;
        _stopping = true;
        Release();
        _polling?.Join();
        if (_consumer is { } consumer)
        {
            try
            {
                consumer.Close();
            }
            catch (KafkaException e)
            {
                LogCloseFailed(_logger, e, _options.Group);
            }
        }
    }

    public void Dispose()
    {
        Close();
        _consumer?.Dispose();
    }

    /// <summary>Why the membership failed for good (a fatal client error), or null.</summary>
    public Exception? Failure => _failure;

    static int PartitionsOf(IConsumer<Ignore, Ignore> consumer, string topic)
    {
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var deadline = DateTime.UtcNow + MetadataTimeout;
        var metadata = admin.GetMetadata(topic, MetadataTimeout).Topics.SingleOrDefault(t => t.Topic == topic);
        // A topic just created (by this process or another starting beside it) can take a moment to reach every broker's metadata.
        while (metadata?.Error.Code is ErrorCode.UnknownTopicOrPart or ErrorCode.LeaderNotAvailable && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(PollTimeout);
            metadata = admin.GetMetadata(topic, MetadataTimeout).Topics.SingleOrDefault(t => t.Topic == topic);
        }
        if (metadata is null || metadata.Error.Code != ErrorCode.NoError)
        {
            throw new InvalidOperationException($"'{topic}' could not be described ({metadata?.Error.Reason ?? "no metadata"}): the group's partitions are its partitions");
        }
        return metadata.Partitions.Count;
    }

    void Poll()
    {
        var consumer = _consumer!;
        while (!_stopping)
        {
            try
            {
                // Records never come (every partition is paused); the call runs the group's callbacks and keeps the
                // membership alive.
                consumer.Consume(PollTimeout);
                var assignment = consumer.Assignment;
                if (assignment.Count > 0)
                {
                    consumer.Pause(assignment);
                }
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                LogKafkaError(_logger, _options.Group, e.Error.Code, e.Error.Reason);
            }
            catch (KafkaException e) when (e.Error.IsFatal)
            {
                _failure = e;
                LogFatal(_logger, e, _options.Group);
                Lost(consumer.Assignment);
                return;
            }
        }
    }

    IEnumerable<TopicPartitionOffset> Assigned(List<TopicPartition> assigned)
    {
        lock (_lock)
        {
            var added = false;
            foreach (var partition in LogPartitionsOf(assigned))
            {
                added |= _owned.Add(partition);
            }
            // A cooperative rebalance ends with an assignment for every member, most often of nothing new.
            if (added)
            {
                Signal();
            }
        }
        LogAssigned(_logger, _options.Group, Numbers(LogPartitionsOf(assigned)), Numbers(Current.Partitions));
        return assigned.Select(p => new TopicPartitionOffset(p, Offset.End));
    }

    // The partitions go once the process has written what it holds for them, or the drain's time is up.
    void Revoked(List<TopicPartitionOffset> revoked)
    {
        var partitions = LogPartitionsOf(revoked.Select(p => p.TopicPartition));
        var release = Take(partitions, wait: !_stopping);
        if (release is not null && !release.Wait(_options.DrainTimeout))
        {
            LogDrainTimedOut(_logger, _options.Group, Numbers(partitions), _options.DrainTimeout);
        }
        LogRevoked(_logger, _options.Group, Numbers(partitions), Numbers(Current.Partitions));
    }

    void Lost(IEnumerable<TopicPartitionOffset> lost) => Lost(lost.Select(p => p.TopicPartition));

    void Lost(IEnumerable<TopicPartition> lost)
    {
        var partitions = LogPartitionsOf(lost);
        Take(partitions, wait: false);
        if (partitions.Count > 0)
        {
            LogLost(_logger, _options.Group, Numbers(partitions));
        }
    }

    Task? Take(IEnumerable<int> partitions, bool wait)
    {
        lock (_lock)
        {
            var removed = false;
            foreach (var partition in partitions)
            {
                removed |= _owned.Remove(partition);
            }
            if (!removed)
            {
                return null;
            }
            Signal();
            if (!wait)
            {
                return null;
            }
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _releases.Add(release);
            return release.Task;
        }
    }

    // Under the lock: whoever holds the last share learns it changed.
    void Signal()
    {
        var changed = _changed;
        _changed = NewSignal();
        changed.TrySetResult();
    }

    static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    IReadOnlyList<int> LogPartitionsOf(IEnumerable<TopicPartition> partitions) => _topic!.LogPartitionsOf(partitions.Select(p => p.Partition.Value));

    static string Numbers(IEnumerable<int> partitions) => string.Join(",", partitions.Order());

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Role} joins group {Group} as {InstanceId} for a share of {Topic}'s partitions")]
    static partial void LogJoining(ILogger logger, string role, string group, string instanceId, string topic);

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Group {Group} serves {Shard} through {Topic}: its partitions stand for the log partitions {Mapping}, so the group splits the shard's partitions alone")]
    static partial void LogShardTopic(ILogger logger, string group, string shard, string topic, string mapping);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group} assigned partitions {Assigned}; this instance owns {Owned}")]
    static partial void LogAssigned(ILogger logger, string group, string assigned, string owned);

    [LoggerMessage(Level = LogLevel.Information, Message = "Group {Group} revoked partitions {Revoked}; this instance owns {Owned}")]
    static partial void LogRevoked(ILogger logger, string group, string revoked, string owned);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {Group}: partitions {Lost} were lost (the session timed out); this instance stops working on them")]
    static partial void LogLost(ILogger logger, string group, string lost);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Group {Group}: the work on partitions {Revoked} did not stop within {DrainTimeout}; they are given up, and what is still written for them is refused by the checkpoints")]
    static partial void LogDrainTimedOut(ILogger logger, string group, string revoked, TimeSpan drainTimeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {Group}: Kafka reported {Code}: {Reason}")]
    static partial void LogKafkaError(ILogger logger, string group, ErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Group {Group}: the membership failed for good")]
    static partial void LogFatal(ILogger logger, Exception exception, string group);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Group {Group}: leaving the group failed")]
    static partial void LogCloseFailed(ILogger logger, Exception exception, string group);
}
