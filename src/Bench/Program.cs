using Streaming.Bench;
using Streaming.Bench.Allocations;
using Streaming.Bench.Append;
using Streaming.Bench.Delivery;
using Streaming.Bench.Scale;

try
{
    return args switch
    {
        ["decision-latency", .. var rest] => await DecisionLatencyCommand.RunAsync(rest),
        ["append", .. var rest] => await AppendCommand.RunAsync(rest),
        ["allocations", .. var rest] => await AllocationsCommand.RunAsync(rest),
        ["scale", .. var rest] => await ScaleCommand.RunAsync(rest),
        _ => await BenchCommand.RunAsync(args),
    };
}
catch (BenchUsageException e)
{
    await Console.Error.WriteLineAsync($"bench: {e.Message} (./bench.sh {(args is ["scale", ..] ? "scale " : "")}--help)");
    return 2;
}
