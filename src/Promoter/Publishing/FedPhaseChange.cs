using Streaming.Contracts.PhaseChanges;

namespace Streaming.Promoter.Publishing;

/// <summary>A committed phase change handed to a relay in-process; <paramref name="Sequence"/> counts every one offered to it, from 1.</summary>
public sealed record FedPhaseChange(long Sequence, PhaseChangedMessage Change);
