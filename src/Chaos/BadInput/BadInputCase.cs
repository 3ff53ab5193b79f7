namespace Streaming.Chaos.BadInput;

/// <summary>
/// One kind of input that breaks the signal contract: the message itself, and any messages that must come before it on
/// its partition to make it bad (the original of a conflicting repeat, the higher seq before a stale one).
/// </summary>
public sealed record BadInputCase(string Kind, byte[]? Key, byte[]? Value, IReadOnlyList<(byte[] Key, byte[] Value)> Before)
{
    public BadInputCase(string kind, byte[]? key, byte[]? value)
        : this(kind, key, value, [])
    {
    }
}
