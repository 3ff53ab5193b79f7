using Streaming.EventStore;

namespace Streaming.Projections.Tail;

/// <summary>
/// Hands one fold everything committed so far, outside a <see cref="LogTail"/>: for rebuilds and one-off commands. The
/// next batch is read and decoded while the fold applies the last. No retries: a failure ends the run, and running again
/// resumes from the fold's checkpoint.
/// </summary>
public static class FoldCatchUp
{
    /// <summary>Feeds the started <paramref name="fold"/> until the log has nothing newer; returns how many events it was handed.</summary>
    public static async Task<long> RunAsync(ILogFold fold, LogSource source, CancellationToken cancellationToken)
    {
        long handed = 0;
        var reading = source.ReadAsync(fold.Position, fold.ReadsArchive, cancellationToken);
        try
        {
            while (true)
            {
                var batch = await reading;
                if (batch.IsEmpty)
                {
                    await fold.FlushAsync(cancellationToken);
                    return handed;
                }
                reading = source.ReadAsync(batch.End, fold.ReadsArchive, cancellationToken);
                await fold.ApplyAsync(batch, cancellationToken);
                handed += batch.Count;
                if (!fold.Position.Covers(batch.End))
                {
                    // The fold went back to another checkpoint: read again from there.
                    await Task.WhenAny(reading);
                    reading = source.ReadAsync(fold.Position, fold.ReadsArchive, cancellationToken);
                }
            }
        }
        finally
        {
            await Task.WhenAny(reading);
            _ = reading.Exception;
        }
    }
}
