using Streaming.Bench;
using Streaming.Bench.Append;
using Streaming.Bench.Delivery;

return args switch
{
    ["decision-latency", .. var rest] => await DecisionLatencyCommand.RunAsync(rest),
    ["append", .. var rest] => await AppendCommand.RunAsync(rest),
    _ => await BenchCommand.RunAsync(args),
};
