using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;

namespace Streaming.Tests.Contracts.Schemas;

/// <summary>Every stored event type has a JSON Schema in <c>contracts/schemas/events</c>, and what the services store validates against it.</summary>
public sealed class StoredEventSchemaTests
{
    static readonly DateTimeOffset At = new(2026, 3, 2, 9, 30, 0, TimeSpan.Zero);

    static readonly IReadOnlyList<CriterionOutcome> Criteria =
    [
        new("checksum_mismatch_rate", "Max", "LessOrEqual", 0.001, 0.0002, 15, true, "pass"),
        new("error_rate", "P95", "Less", 0.01, null, 0, false, "no-data"),
        new("landing_latency_p95_ms", "Max", "LessOrEqual", 2000, 850, 15, true),
    ];

    /// <summary>One sample of each stored event type, as the service that writes it fills it in (optional fields both ways).</summary>
    static readonly IReadOnlyList<object> Samples =
    [
        new SignalRecorded("cdc-orders-eu-17", 1042, At, "shadow", new Dictionary<string, double> { ["error_rate"] = 0.0, ["landing_latency_p95_ms"] = 850 },
            new Dictionary<string, string> { ["team"] = "orders" }, "corr-1"),
        new SignalRecorded("cdc-orders-eu-18", 0, At, "shadow", new Dictionary<string, double>(), new Dictionary<string, string>(), null),
        new PhaseChanged(EventIds.ForDecision("cdc-orders-eu-17", 31), "cdc-orders-eu-17", "shadow", "reverse_shadow", "promote",
            "all criteria held", At, "cdc-migration@1", 31, 16, 31, Criteria, CorrelationId: "corr-31"),
        new PhaseChanged(Guid.NewGuid(), "cdc-orders-eu-17", "reverse_shadow", "cleanup", "override", "pin to cleanup by bob: migrated by hand", At,
            "override", 40, 40, 40, [], Quarantined: true),
        new PromotionDeferred(EventIds.ForDeferral("cdc-orders-eu-17", 31), "cdc-orders-eu-17", "shadow", "reverse_shadow", PromotionDeferred.Wave,
            "500 in flight", 3, 500, 500, 20, null, At, "cdc-migration@1", 31, 16, 31, Criteria),
        new OverrideSet(Guid.NewGuid(), "cdc-orders-eu-17", "pin", "cleanup", "alice", "migrated by hand", At, At.AddHours(4)),
        new OverrideSet(Guid.NewGuid(), "cdc-orders-eu-17", "release", null, "alice", "audit done", At, null),
        new OverrideEnded(Guid.NewGuid(), Guid.NewGuid(), "cdc-orders-eu-17", "hold", OverrideEnded.Expired, At),
        new KnownIssueOpened("INC-42", "legacy driver loses rows", ["cdc-a"], new Dictionary<string, string> { ["db"] = "legacy" }, "alice", At),
        new KnownIssueResolved("INC-42", "alice", "driver 2.3 deployed", At),
        new PolicyPublished("cdc-migration", 2, "name: cdc-migration\n", new string('a', 64), "alice", At),
        new CircuitBreakerChanged(Guid.NewGuid(), "cdc-migration", "reverse_shadow", CircuitBreakerChanged.Open, 20, 50, 0.25, TimeSpan.FromHours(1), At,
            "20 of 50 jobs demoted within 1h"),
        new CircuitBreakerChanged(Guid.NewGuid(), "cdc-migration", "reverse_shadow", CircuitBreakerChanged.Closed, 2, 50, 0.25, TimeSpan.FromDays(1.5), At, "rate back under the share"),
        new CircuitBreakerResetRequested("cdc-migration", "reverse_shadow", "bob", "checked by hand", At),
        new ShadowDecision(Guid.NewGuid(), "candidate", "cdc-orders-eu-17", "shadow", "reverse_shadow", "promote", At, 31, "all criteria held", Criteria),
        new PromotionDeferred(EventIds.ForDeferral("cdc-orders-eu-17", 32), "cdc-orders-eu-17", "shadow", "reverse_shadow", PromotionDeferred.Paused,
            "promotions into reverse_shadow are paused (the fleet) by bob: freeze", 0, 3, null, 1, null, At, "cdc-migration@1", 32, 17, 32, Criteria),
        new PromotionDeferred(EventIds.ForDeferral("cdc-orders-eu-17", 33), "cdc-orders-eu-17", "shadow", "reverse_shadow", PromotionDeferred.Window,
            "outside the promotion windows of cdc-migration", 0, 0, 500, 0, 20, At, "cdc-migration@1", 33, 18, 33, Criteria),
        new PromotionDeferred(EventIds.ForDeferral("cdc-orders-eu-17", 34), "cdc-orders-eu-17", "shadow", "reverse_shadow", PromotionDeferred.Silent,
            "the job is silent", 0, 0, null, 0, null, At, "cdc-migration@1", 34, 19, 34, []),
        new ApprovalRequested(EventIds.ForApprovalRequest("cdc-orders-eu-17", 31), "cdc-orders-eu-17", "reverse_shadow", "cleanup", "cdc-migration@1", At,
            31, 16, 31, "the criteria of reverse_shadow → cleanup pass; the gate needs an operator's approval. all criteria held", Criteria),
        new ApprovalGranted(Guid.NewGuid(), "cdc-orders-eu-17", "reverse_shadow", "cleanup", "alice", "change ticket CHG-7", ApprovalGranted.OneJob, At),
        new ApprovalGranted(Guid.NewGuid(), "cdc-orders-eu-18", "reverse_shadow", "cleanup", "alice", "wave 3 signed off",
            "batch: policy=cdc-migration, phase=reverse_shadow, label team=orders", At),
        new ApprovalLapsed(EventIds.ForApprovalLapse("cdc-orders-eu-17", 35), "cdc-orders-eu-17", "reverse_shadow", "cleanup", "cdc-migration@1", At, 35, true,
            "error_rate no longer passes; the approval by alice lapsed with it", Criteria),
        new ApprovalLapsed(EventIds.ForApprovalLapse("cdc-orders-eu-18", 36), "cdc-orders-eu-18", "reverse_shadow", "cleanup", "cdc-migration@1", At, 36, false,
            "the job left reverse_shadow", []),
        new PromotionsPaused(Guid.NewGuid(), null, null, "bob", "change freeze", null, At),
        new PromotionsPaused(Guid.NewGuid(), "cdc-migration", "cleanup", "bob", "cleanup jobs need a look", TimeSpan.FromHours(4), At),
        new PromotionsPaused(Guid.NewGuid(), "cdc-migration", null, "bob", "weekend", TimeSpan.FromDays(2.5), At),
        new PromotionsResumed(null, null, null, "bob", "freeze over", At),
        new PromotionsResumed(Guid.NewGuid(), "cdc-migration", "cleanup", "promoter", "the pause by bob reached its end", At, Expired: true),
        new CircuitBreakerTripRequested("cdc-migration", "reverse_shadow", "bob", "downstream outage", At),
        new JobSilenced(EventIds.ForSilence("cdc-orders-eu-17", 40), "cdc-orders-eu-17", "cdc-migration", "shadow", At, At.AddHours(2), TimeSpan.FromMinutes(90),
            "hold"),
        new JobSilenced(EventIds.ForSilence("cdc-orders-eu-18", 41), "cdc-orders-eu-18", "cdc-migration", "reverse_shadow", At, At.AddDays(2), TimeSpan.FromDays(1),
            "demote"),
        new AdmissionRequested(EventIds.ForAdmissionRequest("cdc-orders-eu-17", 31), "cdc-orders-eu-17", "cdc-migration", "shadow", "reverse_shadow", 2, At, 31, 1),
        new AdmissionGranted(EventIds.ForAdmissionGrant(EventIds.ForAdmissionRequest("cdc-orders-eu-17", 31)), EventIds.ForAdmissionRequest("cdc-orders-eu-17", 31),
            "cdc-orders-eu-17", "cdc-migration", "shadow", "reverse_shadow", At),
        new AdmissionReleased(EventIds.ForAdmissionRelease(EventIds.ForAdmissionRequest("cdc-orders-eu-17", 31)), EventIds.ForAdmissionRequest("cdc-orders-eu-17", 31),
            "cdc-orders-eu-17", "cdc-migration", "reverse_shadow", AdmissionReleased.Soaked, At),
        new BreakerCountReported(EventIds.ForBreakerCount(BreakerCountReported.Demoted, "cdc-migration", "reverse_shadow", "cdc-orders-eu-17", 33, 2),
            "cdc-orders-eu-17", "cdc-migration", "reverse_shadow", BreakerCountReported.Demoted, 33, At),
    ];

    /// <summary>Every record in <c>contracts/History</c> that names a stored event type (a <c>public const string EventType</c>).</summary>
    public static IEnumerable<(Type Type, string EventType)> StoredEventTypes() =>
        typeof(PhaseChanged).Assembly.GetTypes()
            .Where(t => t.Namespace == typeof(PhaseChanged).Namespace)
            .Select(t => (Type: t, Field: t.GetField("EventType", BindingFlags.Public | BindingFlags.Static)))
            .Where(t => t.Field is { IsLiteral: true } && t.Field.FieldType == typeof(string))
            .Select(t => (t.Type, (string)t.Field!.GetRawConstantValue()!))
            .OrderBy(t => t.Item2, StringComparer.Ordinal);

    static string Serialize(object sample) => JsonSerializer.Serialize(sample, sample.GetType(), ContractsJson.Default);

    static string EventTypeOf(object sample) => (string)sample.GetType().GetField("EventType")!.GetRawConstantValue()!;

    [Fact]
    public void Every_stored_event_type_has_a_schema_titled_with_its_name_and_a_sample_here()
    {
        var types = StoredEventTypes().ToList();
        Assert.True(types.Count >= 11, $"found only {types.Count} stored event types");
        foreach (var (type, eventType) in types)
        {
            var file = Path.Combine(ContractSchemas.Folder, ContractSchemas.EventSchemaFile(eventType));
            Assert.True(File.Exists(file), $"{type.Name} ({eventType}) has no schema: add {Path.GetRelativePath(ContractSchemas.Folder, file)} to contracts/schemas");
            Assert.Equal(eventType, JsonNode.Parse(File.ReadAllText(file))!["title"]!.GetValue<string>());
            Assert.True(Samples.Any(s => s.GetType() == type), $"{type.Name} ({eventType}) has no sample in {nameof(StoredEventSchemaTests)}: add one");
        }
    }

    [Fact]
    public void A_sample_of_every_stored_event_type_serialised_as_the_store_holds_it_is_valid_by_its_schema()
    {
        foreach (var sample in Samples)
        {
            var json = Serialize(sample);
            var errors = ContractSchemas.Errors(ContractSchemas.EventSchemaFile(EventTypeOf(sample)), json);
            Assert.True(errors.Count == 0, $"{EventTypeOf(sample)} {json}\n{string.Join("\n", errors)}");
        }
    }

    [Theory]
    [InlineData("jobId", null)]
    [InlineData("decidedAt", "\"yesterday\"")]
    [InlineData("eventId", "\"not-a-uuid\"")]
    [InlineData("direction", "\"sideways\"")]
    [InlineData("criteria", "[{\"metric\":\"error_rate\"}]")]
    public void A_stored_phase_change_missing_or_breaking_a_field_is_refused_by_its_schema(string field, string? value)
    {
        var node = JsonNode.Parse(Serialize(Samples.OfType<PhaseChanged>().First()))!.AsObject();
        if (value is null)
        {
            node.Remove(field);
        }
        else
        {
            node[field] = JsonNode.Parse(value);
        }
        Assert.NotEmpty(ContractSchemas.Errors(ContractSchemas.EventSchemaFile(PhaseChanged.EventType), node.ToJsonString()));
    }

    [Fact]
    public void Fields_a_schema_does_not_know_are_allowed_so_v1_can_grow_additively()
    {
        foreach (var sample in Samples)
        {
            var node = JsonNode.Parse(Serialize(sample))!.AsObject();
            node["addedLater"] = "a field a newer writer added";
            Assert.Empty(ContractSchemas.Errors(ContractSchemas.EventSchemaFile(EventTypeOf(sample)), node.ToJsonString()));
        }
    }
}
