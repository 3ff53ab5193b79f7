using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Projections;

namespace Streaming.Promoter.Shadows;

/// <summary>
/// Starts the shadow fold once the first shadow policy is published, from that point of the log on (a shadow runs
/// live, beside the policies in force; history is for backtests), and keeps it running after.
/// </summary>
public sealed partial class ShadowRunner(
    NpgsqlDataSource dataSource,
    Func<BufferedFold<ShadowJob>> fold,
    TimeSpan lookEvery,
    ILogger<ShadowRunner> logger)
{
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!await StartedAsync(cancellationToken))
            {
                await Task.Delay(lookEvery, cancellationToken);
            }
            await fold().RunAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    async Task<bool> StartedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (await Checkpoints.LoadAsync(connection, ShadowFold.CheckpointName, cancellationToken) is not null)
        {
            return true;
        }
        await using var first = new NpgsqlCommand(
            """
            select tx_id, global_position from es.events
            where stream_id = any(array(select stream_id from es.streams where starts_with(stream_id, $1)))
            order by tx_id, global_position limit 1
            """, connection);
        first.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PolicyPublished.ShadowStreamPrefix });
        await using var reader = await first.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return false;
        }
        var from = new TailPosition(reader.GetFieldValue<ulong>(0), reader.GetInt64(1));
        await reader.DisposeAsync();
        await ShadowStateTable.EnsureAsync(dataSource, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await Checkpoints.SaveAsync(transaction, ShadowFold.CheckpointName, null, from, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogStarting(from.ToString());
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "A shadow policy is published: shadow policies run from {Position} of the log on")]
    partial void LogStarting(string position);
}
