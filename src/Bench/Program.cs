using Streaming.Bench;
using Streaming.Bench.Delivery;

return args is ["decision-latency", .. var rest]
    ? await DecisionLatencyCommand.RunAsync(rest)
    : await BenchCommand.RunAsync(args);
