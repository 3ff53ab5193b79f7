using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;

namespace Streaming.Embedded.Broker;

/// <summary>
/// A Kafka-protocol cluster inside this process: librdkafka's mock cluster, which Confluent maintains for its own
/// client tests. It keeps at most 5 MB per partition, like a short retention, and takes injected faults (a broker
/// down, a leader change, request errors, latency) the way its own tests use them.
/// </summary>
public sealed partial class EmbeddedKafkaCluster : IDisposable
{
    const string Library = "librdkafka";

    // librdkafka.redist ships librdkafka.so linked against libsasl2.so.3 (GSSAPI), which Debian 12 does not have, and
    // centos8-librdkafka.so without it; Confluent.Kafka loads the first that loads, and so must this class's imports.
    static readonly string[] Candidates = [Library, "centos8-librdkafka"];

    static EmbeddedKafkaCluster() =>
        NativeLibrary.SetDllImportResolver(typeof(EmbeddedKafkaCluster).Assembly, (name, assembly, searchPath) =>
        {
            if (name != Library)
            {
                return IntPtr.Zero;
            }
            foreach (var candidate in Candidates)
            {
                if (NativeLibrary.TryLoad(candidate, assembly, searchPath, out var handle))
                {
                    return handle;
                }
            }
            return IntPtr.Zero;
        });

    readonly IntPtr _handle;
    readonly IntPtr _cluster;
    bool _disposed;

    EmbeddedKafkaCluster(IntPtr handle, IntPtr cluster, string bootstrapServers, int brokers)
    {
        _handle = handle;
        _cluster = cluster;
        BootstrapServers = bootstrapServers;
        BrokerIds = Enumerable.Range(1, brokers).ToList();
    }

    public string BootstrapServers { get; }

    /// <summary>The brokers' ids: 1 to the number of brokers.</summary>
    public IReadOnlyList<int> BrokerIds { get; }

    /// <param name="groupRebalanceDelay">How long a new consumer group waits for more members before its first assignment (Kafka's group.initial.rebalance.delay.ms).</param>
    public static EmbeddedKafkaCluster Start(int brokers = 3, TimeSpan? groupRebalanceDelay = null)
    {
        var errors = new byte[512];
        var conf = rd_kafka_conf_new();
        // This client only hosts the cluster and never connects, so its "no bootstrap.servers" notice is noise.
        rd_kafka_conf_set(conf, "log_level", "3", errors, (UIntPtr)errors.Length);
        // The cluster needs a client instance of its own to live in; Confluent.Kafka does not expose its handles.
        var handle = rd_kafka_new(0, conf, errors, (UIntPtr)errors.Length);
        if (handle == IntPtr.Zero)
        {
            throw new InvalidOperationException($"librdkafka could not create a client: {Encoding.UTF8.GetString(errors).TrimEnd('\0')}");
        }
        var cluster = SignalsBlocked.During(() => rd_kafka_mock_cluster_new(handle, brokers));
        if (cluster == IntPtr.Zero)
        {
            rd_kafka_destroy(handle);
            throw new InvalidOperationException("librdkafka could not start its mock cluster");
        }
        var bootstrap = Marshal.PtrToStringUTF8(rd_kafka_mock_cluster_bootstraps(cluster))
            ?? throw new InvalidOperationException("the mock cluster has no bootstrap servers");
        rd_kafka_mock_group_initial_rebalance_delay_ms(cluster, (int)(groupRebalanceDelay ?? TimeSpan.FromMilliseconds(100)).TotalMilliseconds);
        return new EmbeddedKafkaCluster(handle, cluster, bootstrap, brokers);
    }

    public void CreateTopic(string topic, int partitions, int replicationFactor = 1) =>
        Check(rd_kafka_mock_topic_create(_cluster, topic, partitions, replicationFactor), $"create topic {topic}");

    /// <summary>Deletes a partition's records below <paramref name="beforeOffset"/>, as retention would.</summary>
    public void DeleteRecords(string topic, int partition, long beforeOffset) =>
        Check(TryDeleteRecords(topic, partition, beforeOffset), $"delete records of {topic}/{partition}");

    /// <summary>
    /// As <see cref="DeleteRecords"/>, returning librdkafka's answer instead of throwing: <see cref="ErrorCode.OffsetOutOfRange"/>
    /// when <paramref name="beforeOffset"/> is past the partition's end.
    /// </summary>
    public ErrorCode TryDeleteRecords(string topic, int partition, long beforeOffset) =>
        (ErrorCode)rd_kafka_mock_partition_delete_records(_cluster, topic, partition, beforeOffset);

    /// <summary>
    /// Makes the next <paramref name="count"/> requests of type <paramref name="request"/> naming this partition fail for
    /// it with <paramref name="error"/> (a broker error code, e.g. <see cref="Confluent.Kafka.ErrorCode.OffsetOutOfRange"/>);
    /// other partitions of the same requests are served as usual.
    /// </summary>
    public void PushPartitionErrors(string topic, int partition, KafkaApiKey request, Confluent.Kafka.ErrorCode error, int count = 1)
    {
        for (var i = 0; i < count; i++)
        {
            // The C function takes its errors as variadic arguments; one at a time keeps the call's shape fixed.
            Check(rd_kafka_mock_partition_push_request_errors(_cluster, topic, partition, (short)request, 1, (int)error), $"push errors on {topic}/{partition}");
        }
    }

    /// <summary>Disconnects the broker's clients and refuses new connections; its partitions keep their leader (no failover).</summary>
    public void SetBrokerDown(int brokerId) =>
        ProcessStartPause.During(() => Check(rd_kafka_mock_broker_set_down(_cluster, brokerId), $"stop broker {brokerId}"));

    public void SetBrokerUp(int brokerId) => Check(rd_kafka_mock_broker_set_up(_cluster, brokerId), $"start broker {brokerId}");

    /// <summary>Delays every response of the broker by <paramref name="rtt"/> (zero to stop).</summary>
    public void SetBrokerRoundTrip(int brokerId, TimeSpan rtt) =>
        Check(rd_kafka_mock_broker_set_rtt(_cluster, brokerId, (int)rtt.TotalMilliseconds), $"set the round trip of broker {brokerId}");

    /// <summary>Delays, on every broker, the response to the next request of type <paramref name="request"/> by <paramref name="delay"/>; the request itself succeeds.</summary>
    public void DelayNextResponse(KafkaApiKey request, TimeSpan delay)
    {
        foreach (var broker in BrokerIds)
        {
            // Variadic in C: (error, round trip in ms) pairs; one pair keeps the call's shape fixed.
            Check(rd_kafka_mock_broker_push_request_error_rtts(_cluster, broker, (short)request, 1, 0, (int)delay.TotalMilliseconds),
                $"delay the next {request} response of broker {broker}");
        }
    }

    /// <summary>Moves a partition's leadership to another broker, as a real cluster does when its leader goes away.</summary>
    public void SetPartitionLeader(string topic, int partition, int brokerId) =>
        Check(rd_kafka_mock_partition_set_leader(_cluster, topic, partition, brokerId), $"move the leader of {topic}/{partition} to broker {brokerId}");

    /// <summary>Makes the next requests of that kind, on any broker, fail with <paramref name="errors"/>, one error per request, in order.</summary>
    public void PushRequestErrors(KafkaApiKey request, params ErrorCode[] errors)
    {
        var codes = errors.Select(e => (int)e).ToArray();
        rd_kafka_mock_push_request_errors_array(_cluster, (short)request, (UIntPtr)codes.Length, codes);
    }

    /// <summary>Forgets the request errors pushed for that kind of request and not returned yet.</summary>
    public void ClearRequestErrors(KafkaApiKey request) => rd_kafka_mock_clear_request_errors(_cluster, (short)request);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        rd_kafka_mock_cluster_destroy(_cluster);
        rd_kafka_destroy(_handle);
    }

    static void Check(ErrorCode error, string what) => Check((int)error, what);

    static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new InvalidOperationException($"mock cluster could not {what}: librdkafka error {error} ({(ErrorCode)error})");
        }
    }

    [LibraryImport(Library)]
    private static partial IntPtr rd_kafka_conf_new();

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_conf_set(IntPtr conf, string name, string value, [Out] byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Library)]
    private static partial void rd_kafka_mock_group_initial_rebalance_delay_ms(IntPtr cluster, int delayMs);

    [LibraryImport(Library)]
    private static partial IntPtr rd_kafka_new(int type, IntPtr conf, [Out] byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Library)]
    private static partial void rd_kafka_destroy(IntPtr rk);

    [LibraryImport(Library)]
    private static partial IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);

    [LibraryImport(Library)]
    private static partial void rd_kafka_mock_cluster_destroy(IntPtr cluster);

    [LibraryImport(Library)]
    private static partial IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_mock_topic_create(IntPtr cluster, string topic, int partitions, int replicationFactor);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_mock_partition_delete_records(IntPtr cluster, string topic, int partition, long beforeOffset);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_mock_partition_push_request_errors(IntPtr cluster, string topic, int partition, short apiKey, nuint count, int error);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int rd_kafka_mock_partition_set_leader(IntPtr cluster, string topic, int partition, int brokerId);

    [LibraryImport(Library)]
    private static partial int rd_kafka_mock_broker_set_down(IntPtr cluster, int brokerId);

    [LibraryImport(Library)]
    private static partial int rd_kafka_mock_broker_set_up(IntPtr cluster, int brokerId);

    [LibraryImport(Library)]
    private static partial int rd_kafka_mock_broker_set_rtt(IntPtr cluster, int brokerId, int rttMs);

    [LibraryImport(Library)]
    private static partial int rd_kafka_mock_broker_push_request_error_rtts(IntPtr cluster, int brokerId, short apiKey, nuint count, int error, int rttMs);

    [LibraryImport(Library)]
    private static partial void rd_kafka_mock_push_request_errors_array(IntPtr cluster, short apiKey, UIntPtr count, int[] errors);

    [LibraryImport(Library)]
    private static partial void rd_kafka_mock_clear_request_errors(IntPtr cluster, short apiKey);
}
