namespace Streaming.Api.Jobs;

/// <summary>
/// Something that holds a job where it is, as the job page's badges show it (<see cref="Kind"/>: <c>silent</c>,
/// <c>awaiting-approval</c>, <c>approved</c>, <c>paused</c>, <c>outside-window</c>): since when and until when in event
/// time where known, who and why for a pause, <see cref="Text"/>, the whole of it in words, and <see cref="Note"/>, what it
/// means for the job's next move (null: it does not keep it from moving).
/// </summary>
public sealed record JobHold(
    string Kind, string Text, string? Note, DateTimeOffset? Since, DateTimeOffset? Until, string? Actor = null, string? Reason = null)
{
    public const string Silent = "silent";
    public const string AwaitingApproval = "awaiting-approval";
    public const string Approved = "approved";
    public const string Paused = "paused";
    public const string OutsideWindow = "outside-window";
}
