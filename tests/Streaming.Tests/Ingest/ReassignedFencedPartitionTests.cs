using System.Globalization;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Ingest;

/// <summary>
/// A partition fenced (paused) on one consumer, revoked and assigned back to it is read at once: librdkafka keeps a
/// partition's pause across a revocation and a later assignment, so only a resume at assignment reads it again.
/// </summary>
public sealed class ReassignedFencedPartitionTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Far longer than the test: no partition is read again because its fence pause ended.
    static readonly Dictionary<string, string?> Settings = new() { ["Ingest:FencedPause"] = "00:10:00" };

    [Fact]
    public async Task A_fenced_partition_revoked_and_assigned_back_is_read_again_long_before_its_fence_pause_ends()
    {
        await using var database = await IngestProbe.MigratedAsync();
        await using var a = new StandaloneIngest(database.ConnectionString, partitions: 2, settings: Settings);
        await using var b = new StandaloneIngest(database.ConnectionString, settings: Settings, cluster: a.Kafka);
        await a.StartAsync();
        a.Produce(IngestProbe.Signals(Job(0), 1, 1), partition: 0);
        a.Produce(IngestProbe.Signals(Job(1), 1, 1), partition: 1);
        await Eventually.True(async () => await IngestProbe.StoredAsync(database, 0) == 1 && await IngestProbe.StoredAsync(database, 1) == 1, Timeout, "both partitions' first message stored");

        // Given another consumer has stored both partitions up to offset 3 since this one last did, and A, reading on, is
        // fenced on both: each paused for the fence pause
        await using (var command = database.DataSource.CreateCommand("update es.kafka_offsets set next_offset = 3"))
        {
            Assert.Equal(2, await command.ExecuteNonQueryAsync());
        }
        a.Produce(IngestProbe.Signals(Job(0), 2, 4), partition: 0);
        a.Produce(IngestProbe.Signals(Job(1), 2, 4), partition: 1);
        await Eventually.True(() => Task.FromResult(a.Counters.Fenced == 2), Timeout, "A fenced on both partitions");

        // When a second instance joins the group, is given one of them and reads it from the stored offset 3
        await b.StartAsync();
        var assigned = await Eventually.Get(() => Task.FromResult(Assigned(b, from: 0)), p => p is not null, Timeout, "a partition assigned to B");
        var moved = int.Parse(assigned!, CultureInfo.InvariantCulture);
        var kept = 1 - moved;
        await Eventually.True(async () => await IngestProbe.StoredAsync(database, moved) == 5, Timeout, $"B to store partition {moved}");

        // And leaves it, so the group gives the partition back to A
        var beforeStop = a.Logs.Entries.Count;
        await b.StopAsync();
        await Eventually.True(() => Task.FromResult(Assigned(a, from: beforeStop) == assigned), Timeout, $"partition {moved} assigned back to A");

        // Then what arrives on it is stored by A, once, well before the fence pause could have ended
        a.Produce(IngestProbe.Signals(Job(moved), 6, 3), partition: moved);
        await Eventually.True(async () => await IngestProbe.StoredAsync(database, moved) == 8, TimeSpan.FromSeconds(25), $"A to store partition {moved} again");
        Assert.Equal([1L, 4L, 5L, 6L, 7L, 8L], await IngestProbe.SeqsAsync(database, Job(moved)));

        // And the partition A kept is still paused for its fence: nothing else read it again
        Assert.Equal(3, await IngestProbe.StoredAsync(database, kept));
        Assert.Equal([1L], await IngestProbe.SeqsAsync(database, Job(kept)));
        Assert.False(a.Run.IsCompleted, "Ingest stopped");
    }

    static string Job(int partition) => $"reassigned-{partition}";

    // The partitions (as logged: "0,1") of the instance's first assignment logged from its entry `from` on.
    static string? Assigned(StandaloneIngest ingest, int from)
    {
        const string prefix = "Assigned partitions ";
        var line = ingest.Logs.Entries.Skip(from).FirstOrDefault(e => e.Message.StartsWith(prefix, StringComparison.Ordinal)).Message;
        return line?[prefix.Length..line.IndexOf(' ', prefix.Length)];
    }
}
