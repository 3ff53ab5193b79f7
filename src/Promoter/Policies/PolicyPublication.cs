using Streaming.Lifecycle;

namespace Streaming.Promoter.Policies;

/// <summary>What became of a policy document offered for publication.</summary>
public sealed record PolicyPublication(PolicyPublicationOutcome Outcome, string? Name, int Version, IReadOnlyList<PolicyError> Errors)
{
    public static PolicyPublication Rejected(IReadOnlyList<PolicyError> errors) => new(PolicyPublicationOutcome.Rejected, null, 0, errors);
}

/// <summary>Published as a new version, already the latest version word for word, or rejected with its errors.</summary>
public enum PolicyPublicationOutcome
{
    Published,
    Unchanged,
    Rejected,
}
