using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Streaming.Api;
using Streaming.Embedded;
using Streaming.Embedded.Broker;
using Streaming.Hosting;

switch (args)
{
    case ["broker", .. var flags]:
        var broker = Host.CreateApplicationBuilder();
        broker.Configuration.AddInMemoryCollection(CommandLineFlags.Parse(flags));
        broker.AddServiceDefaults();
        broker.AddStandaloneBroker();
        return await broker.Build().RunToExitCodeAsync();
    case ["fleet", .. var flags]:
        var fleet = Host.CreateApplicationBuilder();
        fleet.Configuration.AddInMemoryCollection(CommandLineFlags.Parse(flags));
        fleet.AddServiceDefaults();
        fleet.AddFleet();
        return await fleet.Build().RunToExitCodeAsync();
}
var builder = WebApplication.CreateBuilder();
builder.Configuration.AddInMemoryCollection(CommandLineFlags.Parse(args));
// Outlives the host, whose Kafka clients flush on disposal.
using var cluster = EmbeddedKafkaCluster.Start();
builder.UseEmbeddedHttp();
builder.UseEmbeddedKafka(cluster);
builder.AddServiceDefaults();
builder.AddServices(builder.Configuration["Embedded:Services"] ?? "ingest,projector,promoter");
builder.TrimStoredSignals(cluster);
builder.AddFleet();
builder.AddApi();
builder.PublishEndpoints(cluster);
var app = builder.Build();
app.MapApi();
return await app.RunToExitCodeAsync();
