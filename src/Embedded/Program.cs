using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Streaming.Embedded;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;
using Streaming.Ingest;
using Streaming.Projector;
using Streaming.Promoter;

var builder = Host.CreateApplicationBuilder();
builder.Configuration.AddInMemoryCollection(CommandLineFlags.Parse(args));
using var cluster = EmbeddedKafkaCluster.Start();
builder.UseEmbeddedKafka(cluster);
builder.AddServiceDefaults();
builder.AddIngest();
builder.AddProjector();
builder.AddPromoter();
builder.AddFleet();
await builder.Build().RunAsync();
