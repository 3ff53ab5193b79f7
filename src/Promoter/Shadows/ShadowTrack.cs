using Streaming.Lifecycle;

namespace Streaming.Promoter.Shadows;

/// <summary>
/// One shadow policy's view of one job: its lifecycle state, which follows the job's real phase changes, and the move
/// the shadow policy would make now, once it has said so (null: none yet in this phase).
/// </summary>
public sealed record ShadowTrack(JobLifecycle Lifecycle, PhaseDecision? Would);
