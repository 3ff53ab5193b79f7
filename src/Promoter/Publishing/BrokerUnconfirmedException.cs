namespace Streaming.Promoter.Publishing;

/// <summary>
/// A batch of phase changes the broker did not confirm (unreachable, refused, or silent past the publish timeout). The
/// messages are valid by construction, so the relay always publishes the batch again.
/// </summary>
public sealed class BrokerUnconfirmedException(string relay, int count, Exception inner)
    : Exception($"{relay}: the broker did not confirm {count} phase changes: {inner.GetType().Name}: {inner.Message}", inner);
