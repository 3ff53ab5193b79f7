namespace Streaming.Promoter.Publishing;

/// <summary>
/// A batch of phase changes the broker did not confirm (unreachable, refused, or silent past the publish timeout). The
/// messages are valid by construction, so this is always an outage to wait out: an I/O failure, transient.
/// </summary>
public sealed class BrokerUnconfirmedException(string destination, int count, Exception inner)
    : IOException($"{destination} did not confirm {count} phase changes: {inner.GetType().Name}: {inner.Message}", inner);
