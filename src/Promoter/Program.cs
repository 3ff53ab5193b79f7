using Microsoft.Extensions.Hosting;
using Streaming.Hosting;
using Streaming.Promoter;
using Streaming.Promoter.Backtesting;
using Streaming.Promoter.Fleet;
using Streaming.Promoter.Overrides;
using Streaming.Promoter.Policies;

switch (args)
{
    case ["policy", .. var command]:
        return await PolicyCommand.RunAsync(command);
    case ["override", .. var command]:
        return await OverrideCommand.RunAsync(command);
    case ["backtest", .. var command]:
        return await BacktestCommand.RunAsync(command);
    case ["known-issue" or "breaker", ..]:
        return await FleetCommand.RunAsync(args);
}
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.AddPromoter();
return await builder.Build().RunToExitCodeAsync();
