using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Streaming.Api;
using Streaming.Embedded;
using Streaming.Hosting;
using Streaming.Hosting.Kafka;

var builder = WebApplication.CreateBuilder();
builder.Configuration.AddInMemoryCollection(CommandLineFlags.Parse(args));
using var cluster = EmbeddedKafkaCluster.Start();
builder.UseEmbeddedHttp();
builder.UseEmbeddedKafka(cluster);
builder.AddServiceDefaults();
builder.AddServices(builder.Configuration["Embedded:Services"] ?? "ingest,projector,promoter");
builder.AddFleet();
builder.AddApi();
var app = builder.Build();
app.MapApi();
await app.RunAsync();
