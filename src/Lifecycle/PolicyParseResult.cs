namespace Streaming.Lifecycle;

/// <summary>A parsed policy document: the policy, or every error found in it.</summary>
public sealed record PolicyParseResult(LifecyclePolicy? Policy, IReadOnlyList<PolicyError> Errors);
