using Microsoft.Extensions.Hosting;
using Streaming.Hosting;
using Streaming.Projector;

var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.AddProjector();
await builder.Build().RunAsync();
