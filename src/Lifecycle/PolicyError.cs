namespace Streaming.Lifecycle;

/// <summary>One reason a policy document was rejected: where (1-based line and column; 0 when unknown), which field, and what is wrong.</summary>
public sealed record PolicyError(int Line, int Column, string Field, string Message)
{
    public override string ToString() =>
        Line > 0 ? $"line {Line}, column {Column}: {Field}: {Message}" : $"{Field}: {Message}";
}
