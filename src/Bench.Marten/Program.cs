using Streaming.Bench.Marten;

return await PeerCommand.RunAsync(args);
