namespace Streaming.Promoter.Publishing;

/// <summary>The MassTransit bus the Promoter publishes phase changes to (configuration section <c>Bus</c>).</summary>
public sealed class BusOptions
{
    public const string Section = "Bus";

    /// <summary><c>amqp://user:password@host:port/vhost</c>; empty: no bus, phase changes go to Kafka only.</summary>
    public string? RabbitMqUrl { get; set; }

    /// <summary>The direct exchange phase changes are published to; another name keeps installations sharing a broker apart.</summary>
    public string Exchange { get; set; } = Contracts.PhaseChanges.PhaseChangeBus.Exchange;

    public bool Enabled => !string.IsNullOrWhiteSpace(RabbitMqUrl);
}
