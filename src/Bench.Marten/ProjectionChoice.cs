namespace Streaming.Bench.Marten;

/// <summary>Which job-state projection Marten's async daemon keeps, if any.</summary>
public enum ProjectionChoice
{
    /// <summary>No projection: appends alone.</summary>
    None,

    /// <summary>The raw-SQL <c>IProjection</c> that upserts a job-state table, one statement per daemon batch.</summary>
    Sql,

    /// <summary>The idiomatic <c>SingleStreamProjection</c> keeping one job-state document per stream.</summary>
    Aggregate,
}
