using Microsoft.Extensions.Hosting;
using Streaming.Hosting;
using Streaming.Promoter;
using Streaming.Promoter.Policies;

if (args is ["policy", .. var command])
{
    return await PolicyCommand.RunAsync(command);
}
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.AddPromoter();
await builder.Build().RunAsync();
return 0;
