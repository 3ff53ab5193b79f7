using Microsoft.Extensions.Logging;
using Streaming.Contracts.PhaseChanges;

namespace Streaming.JobClient.Phases;

/// <summary>
/// The job's phase: what it was assigned last (by stream version, so a redelivered or older change is ignored
/// whatever path it came by) and what it runs and reports. A change reaches the job's callback once; the job reports
/// the new phase from its next signal on only when the callback returned, which is how it acknowledges.
/// </summary>
sealed partial class PhaseTracker(string jobId, string initialPhase, Func<PhaseAssignment, CancellationToken, Task>? onChanged, ILogger logger)
{
    readonly SemaphoreSlim _gate = new(1, 1);
    long _version;
    volatile string _assigned = initialPhase;
    volatile string _reported = initialPhase;

    public string AssignedPhase => _assigned;

    public string ReportedPhase => _reported;

    public long Version => Interlocked.Read(ref _version);

    public async Task ApplyAsync(PhaseChangedMessage change, bool atStartup, CancellationToken cancellationToken)
    {
        if (change.JobId != jobId)
        {
            LogOtherJob(logger, jobId, change.JobId, change.EventId);
            return;
        }
        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (change.Version <= Version)
            {
                LogStale(logger, jobId, change.EventId, change.Version, Version);
                return;
            }
            Interlocked.Exchange(ref _version, change.Version);
            _assigned = change.To;
            if (change.To == _reported)
            {
                return;
            }
            var assignment = new PhaseAssignment(
                jobId, change.To, _reported, change.Direction, change.Reason, change.Policy, change.DecidedAt, change.Version,
                change.EventId, atStartup);
            if (onChanged is not null)
            {
                try
                {
                    await onChanged(assignment, cancellationToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogCallbackFailed(logger, e, jobId, change.To, _reported);
                    return;
                }
            }
            LogSwitched(logger, jobId, assignment.PreviousPhase, change.To, change.Direction, change.Version, change.EventId);
            _reported = change.To;
        }
        finally
        {
            _gate.Release();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} was handed the phase change {EventId} of job {OtherJobId}; ignored")]
    static partial void LogOtherJob(ILogger logger, string jobId, string otherJobId, Guid eventId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId}: phase change {EventId} (version {Version}) already applied (at version {Applied})")]
    static partial void LogStale(ILogger logger, string jobId, Guid eventId, long version, long applied);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId}: switching to {Phase} failed; it keeps running and reporting {Reported}")]
    static partial void LogCallbackFailed(ILogger logger, Exception exception, string jobId, string phase, string reported);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} switched {From} -> {To} ({Direction}, version {Version}, event {EventId})")]
    static partial void LogSwitched(ILogger logger, string jobId, string from, string to, string direction, long version, Guid eventId);
}
