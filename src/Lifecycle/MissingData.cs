namespace Streaming.Lifecycle;

/// <summary>What a criterion's verdict is when its window holds fewer samples of its metric than it needs.</summary>
public enum MissingData
{
    /// <summary>No verdict: the job is neither promoted nor demoted on this criterion, and its streaks stand.</summary>
    Hold,

    /// <summary>The criterion fails.</summary>
    Fail,

    /// <summary>The criterion is left out of the evaluation.</summary>
    Ignore,
}
