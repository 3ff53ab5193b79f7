using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Projections;
using Streaming.Projections.Checkpointing;
using Streaming.Projections.Tail;

namespace Streaming.Promoter.Shadows;

/// <summary>
/// The shadow policies' fold on the process's tail. It starts from the first shadow policy's publication (a shadow runs
/// live, beside the policies in force; history is for backtests): until one is published it only watches the log for
/// it, writing nothing, and from then on it runs the <see cref="ShadowFold"/> and keeps its checkpoint.
/// </summary>
public sealed partial class ShadowPolicies(NpgsqlDataSource dataSource, BufferedFold<ShadowJob> fold, ILogger<ShadowPolicies> logger) : ILogFold
{
    readonly FoldCheckpoint _checkpoint = new(ShadowFold.CheckpointName);
    bool _watching;
    LogPositions _watched = LogPositions.Start(0);

    public string Name => ShadowFold.CheckpointName;

    public bool ReadsArchive => false;

    public LogPositions Position => _watching ? _watched : fold.Position;

    /// <summary>Whether a shadow policy was published and the fold runs.</summary>
    public bool Running => !_watching;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _checkpoint.LoadAsync(dataSource, cancellationToken);
        if (_checkpoint.HasSaved)
        {
            _watching = false;
            await fold.StartAsync(cancellationToken);
            return;
        }
        // The end of the log first: a shadow policy published after it is met by watching; one before it, found now.
        var end = await new EventLog(dataSource).ReadTailEndAsync(_checkpoint.Partitions, cancellationToken);
        if (await FirstPublicationAsync(cancellationToken) is { } first)
        {
            await StartFromAsync(end.With(LogPartitioner.ControlPartition, first), cancellationToken);
            return;
        }
        _watching = true;
        _watched = end;
    }

    public async Task ApplyAsync(LogBatch batch, CancellationToken cancellationToken)
    {
        if (_watching)
        {
            foreach (var logEvent in batch.After(_watched))
            {
                if (logEvent.Type == PolicyPublished.EventType && logEvent.StreamId.StartsWith(PolicyPublished.ShadowStreamPrefix, StringComparison.Ordinal))
                {
                    // The batch's control events come first: its other partitions' events are folded from the batch on.
                    await StartFromAsync(_watched.Max(batch.Follows).With(LogPartitioner.ControlPartition, logEvent.Position), cancellationToken);
                    break;
                }
            }
            if (_watching)
            {
                _watched = _watched.Max(batch.End);
                return;
            }
        }
        await fold.ApplyAsync(batch, cancellationToken);
    }

    public Task TickAsync(CancellationToken cancellationToken) => _watching ? Task.CompletedTask : fold.TickAsync(cancellationToken);

    public Task FlushAsync(CancellationToken cancellationToken) => _watching ? Task.CompletedTask : fold.FlushAsync(cancellationToken);

    // The fold's checkpoint is the publication itself in the control partition (the policy it publishes is loaded with
    // the checkpoint, and the events after it are folded), and in every other partition where the log was when the
    // publication was met: the order of a job partition's events relative to a control event is the one the reader met
    // them in (README, Architecture; with one partition, simply the events after the publication).
    async Task StartFromAsync(LogPositions publication, CancellationToken cancellationToken)
    {
        await _checkpoint.SaveAsync(dataSource, publication, null, cancellationToken);
        LogStarting(publication.ToString());
        _watching = false;
        await fold.StartAsync(cancellationToken);
    }

    async Task<TailPosition?> FirstPublicationAsync(CancellationToken cancellationToken)
    {
        await using var first = dataSource.CreateCommand(
            """
            select c.commit, e.global_position from es.commits c join es.events e on e.tx_id = c.tx_id and e.partition = c.partition
            where e.stream_id = any(array(select stream_id from es.streams where starts_with(stream_id, $1)))
              and c.partition = $2
            order by c.commit, e.global_position limit 1
            """);
        first.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PolicyPublished.ShadowStreamPrefix });
        // Policies are control streams, in the control partition.
        first.Parameters.Add(new NpgsqlParameter<int> { TypedValue = LogPartitioner.ControlPartition });
        await using var reader = await first.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new TailPosition(reader.GetInt64(0), reader.GetInt64(1)) : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "A shadow policy is published: shadow policies run from {Position} of the log on")]
    partial void LogStarting(string position);
}
