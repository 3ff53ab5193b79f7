namespace Streaming.Chaos.Workload;

/// <summary>
/// The policy the fault suite runs: quick gates (minutes of event time) so 20 signals a job make decisions, and no
/// waves or breakers, so each job's decisions depend on its own signals alone and any two runs of the same signals
/// must decide alike, whatever order the jobs' signals were interleaved in.
/// </summary>
public static class ChaosPolicy
{
    public const string Name = "chaos";

    public const string Text = """
        name: chaos
        description: quick gates for the fault suite; no waves or breakers, so a job's decisions depend on its own signals alone
        priority: 0
        selector:
          matchLabels: {}
        phases: [shadow, reverse_shadow, cleanup, done]
        quarantine:
          maxPhaseChanges: 6
          within: 24h
        acknowledgement:
          within: 10m
        stuck:
          afterSoaks: 3
        gates:
          - from: shadow
            to: reverse_shadow
            soak: 4m
            promote:
              window: 4m
              after: 2
              minSamples: 3
              missing: hold
              criteria:
                - { metric: checksum_mismatch_rate, aggregation: max, comparison: "<=", threshold: 0.001 }
                - { metric: landing_latency_p95_ms, aggregation: max, comparison: "<=", threshold: 2000 }
                - { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.01 }
            demote:
              window: 3m
              after: 2
              missing: hold
              criteria:
                - { metric: checksum_mismatch_rate, aggregation: last, comparison: "<=", threshold: 0.002 }
                - { metric: landing_latency_p95_ms, aggregation: last, comparison: "<=", threshold: 3000 }
                - { metric: error_rate, aggregation: last, comparison: "<=", threshold: 0.02 }
          - from: reverse_shadow
            to: cleanup
            soak: 4m
            promote:
              window: 4m
              after: 2
              minSamples: 3
              criteria:
                - { metric: checksum_mismatch_rate, aggregation: max, comparison: "<=", threshold: 0.0005 }
                - { metric: landing_latency_p95_ms, aggregation: max, comparison: "<=", threshold: 1500 }
                - { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.005 }
            demote:
              window: 3m
              after: 2
              criteria:
                - { metric: checksum_mismatch_rate, aggregation: last, comparison: "<=", threshold: 0.001 }
                - { metric: landing_latency_p95_ms, aggregation: last, comparison: "<=", threshold: 2250 }
                - { metric: error_rate, aggregation: last, comparison: "<=", threshold: 0.01 }
          - from: cleanup
            to: done
            soak: 3m
            promote:
              window: 3m
              after: 2
              minSamples: 3
              criteria:
                - { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.005 }
        """;
}
