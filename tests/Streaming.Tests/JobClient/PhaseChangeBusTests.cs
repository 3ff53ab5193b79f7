using Streaming.Contracts.PhaseChanges;

namespace Streaming.Tests.JobClient;

public sealed class PhaseChangeBusTests
{
    [Fact]
    public void A_job_is_routed_by_its_id_and_its_queue_is_named_after_it() =>
        Assert.Equal(("cdc-orders-eu-17", "streaming.job.cdc-orders-eu-17"), (PhaseChangeBus.RoutingKey("cdc-orders-eu-17"), PhaseChangeBus.QueueName("cdc-orders-eu-17")));

    [Fact]
    public void Ids_a_queue_name_cannot_hold_get_distinct_queues()
    {
        var (a, b) = (PhaseChangeBus.QueueName("team/a b"), PhaseChangeBus.QueueName("team a/b"));
        Assert.NotEqual(a, b);
        Assert.Matches("^[A-Za-z0-9_.:-]+$", a);
        Assert.StartsWith("streaming.job.team_a_b-", a, StringComparison.Ordinal);
    }

    [Fact]
    public void Ids_longer_than_amqp_allows_are_routed_and_queued_by_their_hash()
    {
        var job = new string('ü', 200);
        Assert.StartsWith("sha256:", PhaseChangeBus.RoutingKey(job), StringComparison.Ordinal);
        Assert.True(PhaseChangeBus.QueueName(job).Length <= 200);
        Assert.NotEqual(PhaseChangeBus.RoutingKey(job), PhaseChangeBus.RoutingKey(job + "x"));
    }
}
