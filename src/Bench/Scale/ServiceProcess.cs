using Streaming.Bench.Processes;

namespace Streaming.Bench.Scale;

/// <summary>One service process of a <see cref="ServiceSet"/>, named as <c>./run.sh</c> names it (<c>promoter-2</c>, <c>projector-shard1</c>).</summary>
public sealed record ServiceProcess(string Name, string Role, int Shard, ChildProcess Child);
