using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Streaming.Contracts.Signals;
using Streaming.Promoter.Policies;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>
/// Three held jobs in the shared surface system, seeded once, each under a policy of its own (label <c>hold</c>) so that
/// nothing here holds another test's jobs: one silent (its signals are older than the fleet's event time allows), one
/// waiting for approval, one whose next gate an operator paused, with markup in the pause's reason.
/// </summary>
public static class HoldSeed
{
    public const string Silent = "hold-silent";
    public const string Approval = "hold-approval";
    public const string Paused = "hold-paused";
    public const string PauseReason = "<b>audit</b> & \"check\"";

    static readonly SurfaceSeed Once = new(SeedAsync);

    static string Policy(string name, string controls = "", string gate = "") => $$"""
        name: {{name}}
        priority: 10
        selector:
          matchLabels: { hold: {{name}} }
        phases: [shadow, reverse_shadow]
        {{controls}}
        gates:
          - from: shadow
            to: reverse_shadow
            soak: 5m
            {{gate}}
            promote:
              window: 5m
              criteria:
                - { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.01 }
        """;

    static IEnumerable<JobSignal> Minutes(string job, int minutes) =>
        SignalFactory.Minutes(job, 0, minutes, "shadow", SignalFactory.Good).Select(s => s with { Labels = new Dictionary<string, string> { ["hold"] = job } });

    public static Task EnsureAsync(SurfaceSystem system, TimeSpan timeout) => Once.EnsureAsync(system, timeout);

    static async Task SeedAsync(SurfaceSystem system, TimeSpan timeout)
    {
        var publisher = system.Pipeline.DeciderServices.GetRequiredService<PolicyPublisher>();
        await publisher.PublishAsync(Policy(Silent, controls: "silence: 30m"), "tests", CancellationToken.None);
        await publisher.PublishAsync(Policy(Approval, gate: "approval: required"), "tests", CancellationToken.None);
        await publisher.PublishAsync(Policy(Paused), "tests", CancellationToken.None);

        // The gate is paused (and the Promoter holds the pause) before the job could pass it
        using var operatorClient = system.Client("operator");
        var paused = await operatorClient.PostAsJsonAsync("/api/v1/pauses", new { policy = Paused, phase = "reverse_shadow", reason = PauseReason, @for = "48h" });
        paused.EnsureSuccessStatusCode();
        await Eventually.Get(() => operatorClient.GetFromJsonAsync<JsonObject>("/api/v1/gates")!,
            g => g!["pauses"]!.AsArray().Any(p => p!["scope"]!.GetValue<string>() == $"{Paused} into reverse_shadow"), timeout, "the Promoter to hold the pause");

        // The fleet's event time is past minute 100 already (the surface's own seed), so three minutes from minute 0 are silent at once
        using var producer = SignalFactory.Producer(system.Pipeline.Kafka.BootstrapServers);
        producer.Produce(Minutes(Silent, 3).Concat(Minutes(Approval, 9)).Concat(Minutes(Paused, 9)));
        // (timed out once on an idle machine, the next test seeded again and passed in 5 s: it says what was there)
        await Eventually.True(async () =>
                await system.CountAsync($"select count(*) from projections.job_states where job_id = '{Silent}' and 'silent' = any(flags) and last_seq = 3") == 1
                && await system.CountAsync($"select count(*) from projections.job_states where job_id = '{Approval}' and 'awaiting-approval' = any(flags) and last_seq = 9") == 1
                && await system.CountAsync($"select count(*) from projections.job_states where job_id = '{Paused}' and waiting_for is not null and last_seq = 9") == 1,
            timeout, "the silent, the waiting and the paused job to be projected",
            async () => $"\n{await WhatWasSeenAsync(system)}\n{await UnstoredSignals.DescribeAsync(system.Database, system.Pipeline.Kafka.BootstrapServers, 4, system.Pipeline.IngestServices, producer)}");
    }

    // The seeded jobs' rows and events, the folds' checkpoints and the log's head, as JSON, each query on its own so
    // that one that fails (a renamed table) still leaves the others.
    static async Task<string> WhatWasSeenAsync(SurfaceSystem system)
    {
        var jobs = $"'{Silent}', '{Approval}', '{Paused}'";
        var queries = new Dictionary<string, string>
        {
            ["job_states"] = $"select json_agg(s) from projections.job_states s where job_id in ({jobs})",
            ["events"] = $"select json_agg(e) from (select stream_id, count(*) as events, max(version) as version, max(global_position) as position from es.events where stream_id in ({jobs}) group by stream_id) e",
            ["newest event"] = "select max(global_position) from es.events",
            ["checkpoints"] = "select json_agg(c) from es.checkpoints c",
            ["log head"] = "select json_agg(h) from es.log_head h",
            ["decisions"] = "select json_agg(p) from (select * from fleet.decisions where job_id in (" + jobs + ")) p",
        };
        var seen = new System.Text.StringBuilder("what was seen:");
        foreach (var (name, sql) in queries)
        {
            string value;
            try
            {
                await using var command = system.Database.CreateCommand(sql);
                value = (await command.ExecuteScalarAsync())?.ToString() ?? "(none)";
            }
            catch (Npgsql.NpgsqlException e)
            {
                value = $"(not read: {e.Message})";
            }
            seen.Append('\n').Append(name).Append(": ").Append(value);
        }
        return seen.ToString();
    }
}
