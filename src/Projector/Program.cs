using Microsoft.Extensions.Hosting;
using Streaming.Hosting;
using Streaming.Projector;
using Streaming.Projector.Archiving;
using Streaming.Projector.Rebuilding;

if (args is ["rebuild", .. var options])
{
    return await RebuildCommand.RunAsync(options);
}
if (args is ["archive"])
{
    return await ArchiveCommand.RunAsync();
}
var builder = Host.CreateApplicationBuilder(args);
builder.AddServiceDefaults();
builder.AddProjector();
return await builder.Build().RunToExitCodeAsync();
