namespace Streaming.Projections;

/// <summary>How often a <see cref="BufferedFold{TState}"/> writes its changed states (on timers; once what changed is written, a log that stays quiet writes nothing more).</summary>
public sealed record FoldOptions
{
    /// <summary>
    /// Under load, changed states are written no sooner than this after the last write, later the busier the log is
    /// (<see cref="EventsPerChangedState"/>).
    /// </summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the fold must have folded nothing for the log to count as quiet (<see cref="FlushInterval"/> when null):
    /// then what changed is written at once, and what waits with it. A pause between two batches of a busy log is shorter.
    /// </summary>
    public TimeSpan? QuietAfter { get; init; }

    /// <summary>Changed states are written at most this long after the last write, however busy the log is.</summary>
    public TimeSpan MaxFlushInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Under load, a write waits until this many events were folded per changed state, so writing rows costs a bounded
    /// share of the work however many jobs there are (each row is rewritten whole).
    /// </summary>
    public int EventsPerChangedState { get; init; } = 4;

    /// <summary>
    /// How long a change the fold says can wait (<see cref="IStreamFold{TState}.CanWait"/>: one that moves nothing a
    /// reader filters or counts by) may stay unwritten while the log is busy; null: none waits. Meanwhile the checkpoint
    /// stays before it, so a crash folds its events again, and a quiet log or a stop writes it at once. Under load a
    /// state that changes several times within this interval is then written once, however many states change.
    /// </summary>
    public TimeSpan? WaitingWriteInterval { get; init; }

    /// <summary>Changed states that force a write however recent the last one was.</summary>
    public int MaxChanged { get; init; } = 200_000;

    /// <summary>Folded events that force a write: the most a crash makes the fold do again.</summary>
    public int MaxEventsPerWrite { get; init; } = 2_000_000;

    /// <summary>
    /// Whether a write runs beside the fold instead of in its way: the rows are computed from the states as they are
    /// (<see cref="IStreamFold{TState}.PrepareSave"/> must copy what may still change), and the fold goes on folding and
    /// committing its effects while their transaction runs; at most one write is in flight. For a fold whose effects
    /// must not wait for a large state write (the Promoter's decisions).
    /// </summary>
    public bool WriteAside { get; init; }

    /// <summary>For a rebuild: writes only when <see cref="MaxChanged"/> or <see cref="MaxEventsPerWrite"/> say so, and at the end.</summary>
    public static FoldOptions CatchUp(int maxChanged, int maxEventsPerWrite) => new()
    {
        FlushInterval = TimeSpan.MaxValue,
        MaxFlushInterval = TimeSpan.MaxValue,
        MaxChanged = maxChanged,
        MaxEventsPerWrite = maxEventsPerWrite,
    };
}
