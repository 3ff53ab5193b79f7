using Streaming.Bench;

return await BenchCommand.RunAsync(args);
