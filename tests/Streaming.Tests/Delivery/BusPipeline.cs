using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Delivery;

/// <summary>The whole system (<see cref="Pipeline"/>) with the Promoter also publishing to an exchange of its own on the test RabbitMQ.</summary>
public sealed class BusPipeline : IAsyncLifetime
{
    public BusPipeline() => Pipeline = new Pipeline(new Dictionary<string, string?>
    {
        ["Bus:RabbitMqUrl"] = RabbitMqBroker.Url.ToString(),
        ["Bus:Exchange"] = Exchange,
    });

    public string Exchange { get; } = RabbitMqBroker.NewExchange();

    public Pipeline Pipeline { get; }

    public Task InitializeAsync() => Pipeline.InitializeAsync();

    public Task DisposeAsync() => Pipeline.DisposeAsync();
}
