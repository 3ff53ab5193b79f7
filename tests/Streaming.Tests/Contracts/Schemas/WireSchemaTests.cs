using System.Text.Json.Nodes;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.PhaseChanges;
using Streaming.Promoter.Publishing;

namespace Streaming.Tests.Contracts.Schemas;

/// <summary><c>phase-changed/v1</c> as the relays build it from a stored decision, checked against <c>contracts/schemas/phase-changed.v1.json</c>.</summary>
public sealed class WireSchemaTests
{
    const string Schema = "phase-changed.v1.json";
    static readonly DateTimeOffset At = new(2026, 3, 2, 9, 30, 0, TimeSpan.Zero);

    static PhaseChanged Decision(string? correlationId, IReadOnlyList<CriterionOutcome> criteria) =>
        new(EventIds.ForDecision("job-1", 31), "job-1", "shadow", "reverse_shadow", "promote", "all criteria held", At, "cdc-migration@1", 31, 16, 31,
            criteria, CorrelationId: correlationId);

    [Fact]
    public void A_published_change_carries_the_deciding_signals_correlation_id_and_each_criterion_in_the_policys_words()
    {
        // Given a promotion decided by two criteria, one without data, recorded with its correlation id
        var change = Decision("corr-job-1-31", [
            new CriterionOutcome("checksum_mismatch_rate", "Max", "LessOrEqual", 0.001, 0.0002, 15, true, "pass"),
            new CriterionOutcome("error_rate", "P95", "Greater", 0.5, null, 2, false, "no-data"),
        ]);

        // When the relay builds its message from the stored event
        var message = PhaseChangeMessages.Of(change, 32);

        // Then it names the correlation id and each criterion as the policy writes it, and is valid by the wire schema
        Assert.Equal("corr-job-1-31", message.CorrelationId);
        Assert.Equal(32, message.Version);
        Assert.Equal(
            [new PhaseChangeCriterion("checksum_mismatch_rate", "max", "<=", 0.001, 0.0002, 15, "pass"), new PhaseChangeCriterion("error_rate", "p95", ">", 0.5, null, 2, "no-data")],
            message.Criteria!);
        var json = ContractsJson.Serialize(message);
        Assert.Empty(ContractSchemas.Errors(Schema, json));
        Assert.Equal("<=", JsonNode.Parse(json)!["criteria"]![0]!["comparison"]!.GetValue<string>());
    }

    [Fact]
    public void A_change_recorded_before_the_additions_goes_out_without_a_correlation_id_and_with_verdicts_from_passed()
    {
        // Given a decision stored before its body carried the correlation id or verdict names
        var change = Decision(null, [new CriterionOutcome("error_rate", "Last", "Less", 0.01, 0.02, 3, false)]);

        // When the relay builds its message
        var message = PhaseChangeMessages.Of(change, 5);

        // Then it has no correlation id (the field is left out), a verdict read from passed, and is valid by the wire schema
        Assert.Null(message.CorrelationId);
        Assert.Equal("fail", message.Criteria!.Single().Verdict);
        var json = ContractsJson.Serialize(message);
        Assert.Empty(ContractSchemas.Errors(Schema, json));
        Assert.Null(JsonNode.Parse(json)!["correlationId"]);
    }

    [Fact]
    public void A_consumer_of_the_first_v1_shape_still_validates_and_reads_every_message()
    {
        // A message as published before the additions (no correlationId, no criteria) is still valid v1
        var before = """
            {"schema":"phase-changed/v1","eventId":"0e8c9c8e-2f7a-5d1e-9b1a-1c2d3e4f5a6b","jobId":"job-1","from":"shadow","to":"reverse_shadow",
             "direction":"promote","reason":"r","decidedAt":"2026-03-02T09:30:00+00:00","policy":"cdc-migration@1","version":17}
            """;
        Assert.Empty(ContractSchemas.Errors(Schema, before));
        Assert.Null(ContractsJson.Deserialize<PhaseChangedMessage>(before).Criteria);

        // And a message with a criterion the schema does not allow is refused, so the check can fail
        var bad = JsonNode.Parse(before)!.AsObject();
        bad["criteria"] = JsonNode.Parse("""[{"metric":"error_rate","aggregation":"Max","comparison":"LessOrEqual","threshold":1,"samples":1,"verdict":"pass"}]""");
        Assert.NotEmpty(ContractSchemas.Errors(Schema, bad.ToJsonString()));
    }
}
