namespace Streaming.Tests.Infrastructure;

/// <summary>
/// The real RabbitMQ node the tests publish to, named by <c>STREAMING_TEST_RABBITMQ</c> (test.sh starts one on a free
/// port). Test classes keep apart by publishing to an exchange of their own.
/// </summary>
public static class RabbitMqBroker
{
    public const string UrlVariable = "STREAMING_TEST_RABBITMQ";

    public static Uri Url => Environment.GetEnvironmentVariable(UrlVariable) is { Length: > 0 } url
        ? new Uri(url)
        : throw new InvalidOperationException(
            $"The environment variable {UrlVariable} must hold the AMQP URL of a RabbitMQ node the tests may use, e.g. " +
            "amqp://guest:guest@127.0.0.1:5672/ (scripts/rabbitmq.sh start DIR prints one)");

    public static string NewExchange() => "streaming.phase-changes.test-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The same node reached through <paramref name="gate"/>.</summary>
    public static Uri Through(TcpGate gate) => new UriBuilder(Url) { Port = gate.Port }.Uri;
}
