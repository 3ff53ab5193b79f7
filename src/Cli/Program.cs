using Streaming.Cli;

return await StreamingCommand.Create().Parse(args).InvokeAsync();
