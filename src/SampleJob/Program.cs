using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Streaming.SampleJob;

var builder = Host.CreateApplicationBuilder();
builder.Configuration.AddCommandLine(args, new Dictionary<string, string>
{
    ["--job-id"] = "SampleJob:JobId",
    ["--feed"] = "SampleJob:Feed",
    ["--profile"] = "SampleJob:Profile",
    ["--interval"] = "SampleJob:Interval",
    ["--speed"] = "SampleJob:Speed",
    ["--start"] = "SampleJob:Start",
    ["--state"] = "SampleJob:StateDirectory",
    ["--kafka"] = "Kafka:BootstrapServers",
    ["--rabbitmq"] = "Bus:RabbitMqUrl",
});
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss ";
});
builder.Logging.AddFilter("MassTransit", LogLevel.Warning);
builder.Services.AddOptions<SampleJobOptions>().BindConfiguration(SampleJobOptions.Section)
    .Validate(o => o.Speed > 0 && o.Interval > TimeSpan.Zero, "SampleJob:Speed and SampleJob:Interval must be positive")
    .ValidateOnStart();
builder.Services.AddHostedService<MigrationWorker>();
await builder.Build().RunAsync();
