namespace Streaming.Bench.Scale;

/// <summary>The entry assemblies of the processes <c>./run.sh</c> starts: the all-in-one (as the broker), Ingest, the Projector, the Promoter.</summary>
public sealed record ServiceExecutables(string Embedded, string Ingest, string Projector, string Promoter);
