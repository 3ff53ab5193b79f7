using System.Text.Json.Nodes;

namespace Streaming.Hosting.Supervision;

/// <summary>An endpoints file as read: its content, the process that wrote it, and whether that process still runs.</summary>
public sealed record EndpointsFileState(JsonObject Content, int Pid, bool Live);
