using Microsoft.Extensions.Hosting;
using Streaming.Hosting;
using Streaming.Ingest;

var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.AddIngest();
return await builder.Build().RunToExitCodeAsync();
