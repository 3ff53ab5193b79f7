using Npgsql;

namespace Streaming.Projector.JobStates;

/// <summary>
/// A flush's job-state rows, computed from the fold's states before the write's transaction opens (policy evaluation,
/// JSON, the lifecycle snapshot), in chunks of at most <see cref="RowsPerStatement"/> rows, all sent in one round trip.
/// </summary>
public sealed class JobStateRows
{
    /// <summary>
    /// Most rows one statement writes: a chunk's arrays of nullable times and seqs (16 bytes an element) then stay under
    /// the 85,000 bytes from which an array is allocated on the large-object heap, collected only with the oldest generation.
    /// </summary>
    public const int RowsPerStatement = 5_000;

    readonly JobStateRowChunk[] _chunks;

    JobStateRows(JobStateRowChunk[] chunks, int count) => (_chunks, Count) = (chunks, count);

    public int Count { get; }

    public static JobStateRows From(IReadOnlyList<KeyValuePair<string, JobStateView>> changed, Func<JobStateView, JobContext> contextOf)
    {
        var chunks = new JobStateRowChunk[(changed.Count + RowsPerStatement - 1) / RowsPerStatement];
        for (var c = 0; c < chunks.Length; c++)
        {
            var start = c * RowsPerStatement;
            var chunk = chunks[c] = new JobStateRowChunk(Math.Min(RowsPerStatement, changed.Count - start));
            for (var i = 0; i < chunk.Count; i++)
            {
                var view = changed[start + i].Value;
                chunk.Set(i, view, contextOf(view));
            }
        }
        return new JobStateRows(chunks, changed.Count);
    }

    /// <summary>Writes the rows into <paramref name="generation"/>'s tables: one round trip inside the caller's transaction.</summary>
    public async Task WriteAsync(NpgsqlTransaction transaction, JobStateGeneration generation, CancellationToken cancellationToken)
    {
        if (Count == 0)
        {
            return;
        }
        await using var batch = new NpgsqlBatch(transaction.Connection, transaction);
        foreach (var chunk in _chunks)
        {
            chunk.AddTo(batch, generation);
        }
        await batch.ExecuteNonQueryAsync(cancellationToken);
    }
}
