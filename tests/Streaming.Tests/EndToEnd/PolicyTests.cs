using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.Lifecycle;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Policies;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.EndToEnd;

public sealed class PolicyTests(Pipeline pipeline) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    readonly StoreProbe _store = new(pipeline.Database);

    PolicyPublisher Publisher => pipeline.DeciderServices.GetRequiredService<PolicyPublisher>();

    const string FastLane = """
        name: fast-lane
        priority: 10
        selector:
          matchLabels: { lane: fast }
        phases: [shadow, reverse_shadow]
        gates:
          - from: shadow
            to: reverse_shadow
            soak: 5m
            promote:
              window: 5m
              criteria:
                - { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.01 }
        """;

    [Fact]
    public async Task The_shipped_policy_is_published_at_start_and_a_document_is_stored_once_per_change()
    {
        // Given the Promoter started with the shipped policy folder
        var history = await Publisher.HistoryAsync(DefaultPolicies.CdcMigrationName, CancellationToken.None);
        var first = history[0];
        Assert.Equal((DefaultPolicies.CdcMigrationName, 1, DefaultPolicies.CdcMigrationText), (first.Name, first.Version, first.Text));
        Assert.EndsWith("cdc-migration.yaml", first.PublishedBy, StringComparison.Ordinal);

        // When the latest text is offered again, then an invalid document
        var again = await Publisher.PublishAsync(history[^1].Text, "tests", CancellationToken.None);
        var invalid = await Publisher.PublishAsync(DefaultPolicies.CdcMigrationText.Replace("threshold: 2000 }", "threshold: lots }", StringComparison.Ordinal), "tests", CancellationToken.None);

        // Then neither makes a version: the same text is unchanged, and the invalid one is refused with its line and field
        Assert.Equal((PolicyPublicationOutcome.Unchanged, history[^1].Version), (again.Outcome, again.Version));
        Assert.Equal(PolicyPublicationOutcome.Rejected, invalid.Outcome);
        var error = Assert.Single(invalid.Errors);
        var line = 1 + DefaultPolicies.CdcMigrationText[..DefaultPolicies.CdcMigrationText.IndexOf("threshold: 2000 }", StringComparison.Ordinal)].Count(c => c == '\n');
        Assert.Equal(("gates[0].promote.criteria[1].threshold", line), (error.Field, error.Line));
        Assert.Equal(history.Count, (await Publisher.HistoryAsync(DefaultPolicies.CdcMigrationName, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task A_job_is_decided_by_the_policy_its_labels_select_at_the_version_in_force()
    {
        // Given a second policy for jobs labelled lane=fast, published while the system runs
        var published = await Publisher.PublishAsync(FastLane, "tests", CancellationToken.None);
        Assert.Equal((PolicyPublicationOutcome.Published, 1), (published.Outcome, published.Version));

        // When a fast-lane job and an ordinary job report ten healthy minutes in shadow
        const string fast = "policy-fast-1";
        const string ordinary = "policy-ordinary-1";
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(SignalFactory.Minutes(fast, 0, 11, "shadow", SignalFactory.Good)
            .Select(s => s with { Labels = new Dictionary<string, string> { ["lane"] = "fast" } })
            .Concat(SignalFactory.Minutes(ordinary, 0, 11, "shadow", SignalFactory.Good)));

        // Then the fast-lane job is promoted after its 5-minute soak by fast-lane@1, and the ordinary one is not promoted
        await Eventually.Get(() => _store.LastSeqAsync(fast), s => s == 11, Timeout, "the projection to see the fast job's signals");
        await Eventually.Get(() => _store.LastSeqAsync(ordinary), s => s == 11, Timeout, "the projection to see the ordinary job's signals");
        await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, fast), Timeout, "the promoter to process the fast job");
        await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, ordinary), Timeout, "the promoter to process the ordinary job");
        var change = Assert.Single(await PhaseChangesAsync(fast));
        Assert.Equal(("fast-lane@1", "reverse_shadow", SignalFactory.Start.AddMinutes(5)), (change.Policy, change.To, change.DecidedAt));
        Assert.Equal([("error_rate", 0.01, 0.001, "pass")], change.Criteria.Select(c => (c.Metric, c.Threshold, c.Value ?? -1, c.Verdict)));
        Assert.Empty(await PhaseChangesAsync(ordinary));
        Assert.Equal("fast-lane@1", await Eventually.Get(() => ProjectedPolicyAsync(fast), p => p == "fast-lane@1", Timeout, "the projection"));
    }

    async Task<IReadOnlyList<PhaseChanged>> PhaseChangesAsync(string job)
    {
        await using var command = pipeline.Database.CreateCommand("select data from es.events where stream_id = $1 and type = $2 order by version");
        command.Parameters.AddWithValue(job);
        command.Parameters.AddWithValue(PhaseChanged.EventType);
        var changes = new List<PhaseChanged>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            changes.Add(ContractsJson.Deserialize<PhaseChanged>(reader.GetString(0)));
        }
        return changes;
    }

    async Task<string?> ProjectedPolicyAsync(string job)
    {
        await using var command = pipeline.Database.CreateCommand("select policy from projections.job_states where job_id = $1");
        command.Parameters.AddWithValue(job);
        return await command.ExecuteScalarAsync() as string;
    }
}
