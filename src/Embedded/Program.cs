using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Streaming.Embedded;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;

var builder = Host.CreateApplicationBuilder();
builder.Configuration.AddInMemoryCollection(CommandLineFlags.Parse(args));
using var cluster = EmbeddedKafkaCluster.Start();
builder.UseEmbeddedKafka(cluster);
builder.AddServiceDefaults();
builder.AddServices(builder.Configuration["Embedded:Services"] ?? "ingest,projector,promoter");
builder.AddFleet();
await builder.Build().RunAsync();
