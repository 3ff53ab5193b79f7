using Microsoft.Extensions.Hosting;
using Streaming.Hosting;
using Streaming.Promoter;

var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.AddPromoter();
return await builder.Build().RunToExitCodeAsync();
