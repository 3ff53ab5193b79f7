using Streaming.Ingest.Consuming;

namespace Streaming.Tests.Ingest;

/// <summary>What Ingest keeps of librdkafka's statistics: the fetch of each partition the consumer is assigned.</summary>
public sealed class ConsumerStatesTests
{
    // Shaped as librdkafka 2.x writes it (trimmed): the unassigned-messages partition -1, an assigned partition, one
    // another consumer holds (known from metadata, not desired), and another topic.
    const string Statistics =
        """
        {"name":"streaming-ingest#consumer-1","type":"consumer","ts":1,
         "topics":{
           "job-signals":{"topic":"job-signals","partitions":{
             "-1":{"partition":-1,"desired":false,"fetch_state":"none","next_offset":0,"app_offset":-1001,"hi_offset":-1001,"ls_offset":-1001,"fetchq_cnt":0},
             "2":{"partition":2,"desired":true,"fetch_state":"active","next_offset":27,"app_offset":26,"hi_offset":27,"ls_offset":27,"fetchq_cnt":1},
             "3":{"partition":3,"desired":false,"fetch_state":"none","next_offset":0,"app_offset":-1001,"hi_offset":-1001,"ls_offset":-1001,"fetchq_cnt":0},
             "0":{"partition":0,"desired":true,"fetch_state":"offset-query","next_offset":-1001,"app_offset":-1001,"hi_offset":-1001,"ls_offset":-1001,"fetchq_cnt":0}}},
           "job-signals-dlq":{"topic":"job-signals-dlq","partitions":{
             "0":{"partition":0,"desired":true,"fetch_state":"active","next_offset":5,"app_offset":5,"hi_offset":5,"ls_offset":5,"fetchq_cnt":0}}}}}
        """;

    [Fact]
    public void Only_the_partitions_of_the_topic_the_consumer_is_assigned_are_kept_in_partition_order()
    {
        Assert.Equal(
        [
            new PartitionFetch(0, "offset-query", -1001, -1001, -1001, -1001, 0),
            new PartitionFetch(2, "active", 27, 26, 27, 27, 1),
        ], ConsumerStates.Fetches(Statistics, "job-signals"));
    }

    [Fact]
    public void A_consumer_that_fetches_nothing_of_the_topic_yet_has_no_fetches()
    {
        Assert.Empty(ConsumerStates.Fetches("""{"name":"c","topics":{}}""", "job-signals"));
        Assert.Empty(ConsumerStates.Fetches("""{"name":"c"}""", "job-signals"));
    }

    [Fact]
    public void The_last_state_of_each_consumer_is_kept_and_told_in_consumer_order()
    {
        var states = new ConsumerStates();
        Assert.Equal("no consumer state yet", states.ToString());
        var at = new DateTime(2026, 12, 7, 20, 0, 0, DateTimeKind.Utc);
        states.Update(new ConsumerState("ingest consumer 2", at, "partitions none", []));
        states.Update(new ConsumerState("ingest consumer 1", at, "partitions 2 Reading at 26", [new PartitionFetch(2, "active", 27, 26, 27, 27, 1)]));
        states.Update(new ConsumerState("ingest consumer 2", at.AddSeconds(5), "partitions 3 Reading at none", []));
        Assert.Equal(["ingest consumer 1", "ingest consumer 2"], states.All.Select(s => s.Consumer));
        Assert.Equal(
            "ingest consumer 1 at 20:00:00.000: partitions 2 Reading at 26; fetching 2: active, next 27, handed out to 26, high 27, stable 27, 1 queued"
            + " | ingest consumer 2 at 20:00:05.000: partitions 3 Reading at none; fetching nothing",
            states.ToString());
    }
}
