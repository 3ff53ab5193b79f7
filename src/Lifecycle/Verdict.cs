namespace Streaming.Lifecycle;

/// <summary>The outcome of evaluating a criterion or a whole gate.</summary>
public enum Verdict
{
    Pass,
    Fail,

    /// <summary>Too few samples to judge, and the criterion's <see cref="MissingData"/> says to hold.</summary>
    NoData,

    /// <summary>Too few samples, and the criterion's <see cref="MissingData"/> says to leave it out.</summary>
    Ignored,
}
