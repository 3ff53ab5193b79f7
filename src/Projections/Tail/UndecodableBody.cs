namespace Streaming.Projections.Tail;

/// <summary>The body of a stored event that could not be read as its type's contract, and why.</summary>
public sealed record UndecodableBody(string Reason);
