using Streaming.Lifecycle;
using Streaming.LifecycleEvents;

namespace Streaming.Projector.JobStates;

/// <summary>What a job's row needs beyond its own state: the policy that governs it and the open known issues that hold it.</summary>
public sealed record JobContext(LifecyclePolicy? Policy, IReadOnlyList<string> KnownIssues);
