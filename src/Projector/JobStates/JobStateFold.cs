using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.EventStore;
using Streaming.LifecycleEvents;
using Streaming.Projections;
using Streaming.Projections.Tail;

namespace Streaming.Projector.JobStates;

/// <summary>
/// The job-state projection as a fold of the Projector's tail: keeps the active generation current, and follows a
/// rebuild when it activates another (it writes what it holds to the old one, then resumes from the new one's
/// checkpoint, where the tail hands it the log again).
/// </summary>
public sealed partial class JobStateFold(
    NpgsqlDataSource dataSource, ILoggerFactory loggers, TimeSpan? stateWriteInterval = null, TimeSpan? metricsWriteInterval = null) : ILogFold
{
    public const string FoldName = "projector:job-states";

    static readonly TimeSpan GenerationCheck = TimeSpan.FromSeconds(2);

    // A write's rows are computed at once before its transaction (about 2 KB a row, most of it the lifecycle snapshot),
    // so a Projector that fell behind by a whole fleet held a fleet's rows: with 500,000 jobs it peaked at 1.2 GiB.
    // A job's row is written once per write, so with many jobs, each signalling less often than every write interval,
    // it was a row a signal; a signal that moves only metrics waits (metricsWriteInterval, none when zero), so a job
    // signalling several times meanwhile is written once.
    readonly FoldOptions _writes = (stateWriteInterval is { } every ? new FoldOptions { FlushInterval = every, MaxFlushInterval = every * 5 } : new FoldOptions())
        with
        {
            MaxChanged = 20_000,
            WaitingWriteInterval = metricsWriteInterval is { } wait && wait > TimeSpan.Zero ? wait : null,
        };

    readonly JobStateGenerations _generations = new(dataSource);
    readonly ILogger _logger = loggers.CreateLogger<JobStateProjection>();
    readonly Stopwatch _sinceCheck = new();
    BufferedFold<JobStateView>? _fold;

    public string Name => FoldName;

    public bool ReadsArchive => true;

    public LogPositions Position => Current.Position;

    /// <summary>The generation being kept current.</summary>
    public JobStateGeneration? Generation { get; private set; }

    BufferedFold<JobStateView> Current => _fold ?? throw new InvalidOperationException("The job-state fold is not started");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var generation = await _generations.EnsureActiveAsync(cancellationToken);
        await FollowAsync(generation, cancellationToken);
    }

    public async Task ApplyAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        await FollowActivatedAsync(cancellationToken);
        if (Current.Position.Covers(batch.Follows))
        {
            await Current.ApplyAsync(batch, cancellationToken);
        }
    }

    public async Task TickAsync(CancellationToken cancellationToken)
    {
        await FollowActivatedAsync(cancellationToken);
        await Current.TickAsync(cancellationToken);
    }

    public Task FlushAsync(CancellationToken cancellationToken) => _fold?.FlushAsync(cancellationToken) ?? Task.CompletedTask;

    async Task FollowActivatedAsync(CancellationToken cancellationToken)
    {
        if (_sinceCheck.IsRunning && _sinceCheck.Elapsed < GenerationCheck)
        {
            return;
        }
        _sinceCheck.Restart();
        if (await _generations.ActiveAsync(cancellationToken) is { } active && active != Generation)
        {
            LogFollowing(active.Number);
            await Current.FlushAsync(cancellationToken);
            await FollowAsync(active, cancellationToken);
        }
    }

    async Task FollowAsync(JobStateGeneration generation, CancellationToken cancellationToken)
    {
        var projection = new JobStateProjection(dataSource, new ActivePolicies(_logger), new KnownIssues(), generation);
        var fold = new BufferedFold<JobStateView>(dataSource, projection, _writes, _logger, readsArchive: true);
        await fold.StartAsync(cancellationToken);
        (_fold, Generation) = (fold, generation);
        _sinceCheck.Restart();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Generation {Generation} of the job states is active now; following it")]
    partial void LogFollowing(int generation);
}
