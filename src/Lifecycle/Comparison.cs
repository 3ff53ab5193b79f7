namespace Streaming.Lifecycle;

/// <summary>How a criterion's value must compare with its threshold to pass.</summary>
public enum Comparison
{
    LessOrEqual,
    Less,
    GreaterOrEqual,
    Greater,
}
