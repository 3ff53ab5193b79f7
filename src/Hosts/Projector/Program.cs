using Microsoft.Extensions.Hosting;
using Streaming.Hosting;
using Streaming.Projector;

var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.AddProjector();
return await builder.Build().RunToExitCodeAsync();
