using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text;

namespace Streaming.Lifecycle;

/// <summary>
/// A compact binary form of <see cref="JobLifecycle"/> for the tables that keep each job's state between batches: a
/// window of 30 signals is about 1.5 KB (under PostgreSQL's TOAST threshold, so stored uncompressed) and is written and
/// read without reflection. Metric names are written once per snapshot.
/// </summary>
public static class JobLifecycleSnapshot
{
    const byte FormatVersion = 2;
    const byte FirstFormat = 1;

    // Each thread's buffer and its writer, reused: a fold writes thousands of snapshots at a time, and a stream that
    // grew by doubling for each of them allocated several times the snapshot's size.
    [ThreadStatic]
    static SnapshotWriter? _perThread;

    public static byte[] Write(JobLifecycle state)
    {
        var snapshot = _perThread ??= new SnapshotWriter();
        snapshot.Buffer.SetLength(0);
        var written = Write(snapshot.Writer, snapshot.Names, state);
        if (snapshot.Buffer.Capacity > SnapshotWriter.MostKept)
        {
            // A job with an unusually large window does not keep its buffer's size for every later write.
            _perThread = null;
        }
        return written;
    }

    static byte[] Write(BinaryWriter writer, MetricNameIndex names, JobLifecycle state)
    {
        writer.Write(FormatVersion);
        writer.Write(state.JobId);
        WriteNullable(writer, state.AssignedPhase);
        WriteNullable(writer, state.AssignedAt);
        WriteNullable(writer, state.PhaseSince);
        writer.Write(state.DemotionStreak);
        writer.Write(state.DemotionStreakFrom);
        writer.Write(state.LastVersion);
        writer.Write(state.LastSeq);
        WriteNullable(writer, state.LastSignalAt);
        WriteNullable(writer, state.LastReportedPhase);
        writer.Write(state.PhaseChanges);
        writer.Write(state.ReportedUnknownPhase);
        writer.Write(state.PromotionStreak);
        writer.Write((byte)state.LastPromotionVerdict);
        writer.Write7BitEncodedInt(state.RecentChanges.Length);
        foreach (var at in state.RecentChanges)
        {
            Write(writer, at);
        }
        WriteNullable(writer, state.QuarantinedAt);
        WriteNullable(writer, state.Policy);
        writer.Write(state.ActiveOverride is not null);
        if (state.ActiveOverride is { } active)
        {
            writer.Write(active.Id.ToByteArray());
            writer.Write((byte)active.Kind);
            WriteNullable(writer, active.Phase);
            writer.Write(active.Actor);
            writer.Write(active.Reason);
            Write(writer, active.SetAt);
            WriteNullable(writer, active.ExpiresAt);
        }

        names.Clear();
        names.AddAll(state.LatestMetrics);
        foreach (var sample in state.Window)
        {
            names.AddAll(sample.Metrics);
        }
        writer.Write7BitEncodedInt(names.Count);
        foreach (var name in names.InOrder)
        {
            writer.Write(name);
        }
        WriteMetrics(writer, names, state.LatestMetrics);
        writer.Write7BitEncodedInt(state.Window.Length);
        foreach (var sample in state.Window)
        {
            writer.Write(sample.Version);
            Write(writer, sample.EmittedAt);
            WriteMetrics(writer, names, sample.Metrics);
        }
        writer.Flush();
        return ((MemoryStream)writer.BaseStream).ToArray();
    }

    public static JobLifecycle Read(byte[] snapshot)
    {
        using var reader = new BinaryReader(new MemoryStream(snapshot, writable: false), Encoding.UTF8);
        var format = reader.ReadByte();
        if (format is not (FormatVersion or FirstFormat))
        {
            throw new InvalidDataException($"job lifecycle snapshot format {format} is not known (this build reads {FirstFormat} and {FormatVersion})");
        }
        try
        {
            return Read(reader, format);
        }
        catch (Exception e) when (e is EndOfStreamException or IndexOutOfRangeException or ArgumentException or IOException)
        {
            throw new InvalidDataException($"a job lifecycle snapshot of format {format} ({snapshot.Length} bytes) is damaged and cannot be read", e);
        }
    }

    static JobLifecycle Read(BinaryReader reader, byte format)
    {
        var jobId = reader.ReadString();
        var assignedPhase = ReadNullableString(reader);
        var assignedAt = ReadNullableTime(reader);
        var phaseSince = ReadNullableTime(reader);
        var breaches = reader.ReadInt32();
        var firstBreach = reader.ReadInt64();
        var lastVersion = reader.ReadInt64();
        var lastSeq = reader.ReadInt64();
        var lastSignalAt = ReadNullableTime(reader);
        var lastReportedPhase = ReadNullableString(reader);
        var phaseChanges = reader.ReadInt32();
        var unknownPhase = reader.ReadBoolean();
        // Format 1 had no promotion streak, change history or quarantine: those start afresh.
        var promotionStreak = 0;
        var promotionVerdict = Verdict.NoData;
        var recentChanges = ImmutableArray<DateTimeOffset>.Empty;
        DateTimeOffset? quarantinedAt = null;
        string? policy = null;
        JobOverride? activeOverride = null;
        if (format == FormatVersion)
        {
            promotionStreak = reader.ReadInt32();
            promotionVerdict = (Verdict)reader.ReadByte();
            var changes = new DateTimeOffset[reader.Read7BitEncodedInt()];
            for (var i = 0; i < changes.Length; i++)
            {
                changes[i] = ReadTime(reader);
            }
            recentChanges = ImmutableCollectionsMarshal.AsImmutableArray(changes);
            quarantinedAt = ReadNullableTime(reader);
            policy = ReadNullableString(reader);
            if (reader.ReadBoolean())
            {
                activeOverride = new JobOverride(new Guid(reader.ReadBytes(16)), (OverrideKind)reader.ReadByte(), ReadNullableString(reader),
                    reader.ReadString(), reader.ReadString(), ReadTime(reader), ReadNullableTime(reader));
            }
        }

        var names = new string[reader.Read7BitEncodedInt()];
        for (var i = 0; i < names.Length; i++)
        {
            names[i] = MetricNames.Intern(reader.ReadString());
        }
        var latest = ReadMetrics(reader, names);
        var window = new WindowSample[reader.Read7BitEncodedInt()];
        for (var i = 0; i < window.Length; i++)
        {
            var version = reader.ReadInt64();
            var emittedAt = ReadTime(reader);
            window[i] = new WindowSample(version, emittedAt, ReadMetrics(reader, names));
        }
        return new JobLifecycle(jobId, assignedPhase, assignedAt, phaseSince, WindowSamples.Of(window),
            promotionStreak, promotionVerdict, breaches, firstBreach, lastVersion, lastSeq, lastSignalAt, lastReportedPhase, latest,
            phaseChanges, unknownPhase, recentChanges, quarantinedAt, policy, activeOverride);
    }

    static void WriteMetrics(BinaryWriter writer, MetricNameIndex names, IReadOnlyDictionary<string, double> metrics)
    {
        writer.Write7BitEncodedInt(metrics.Count);
        if (metrics is MetricValues compact)
        {
            var values = compact.ValueSpan;
            var keys = compact.NameSpan;
            for (var i = 0; i < keys.Length; i++)
            {
                writer.Write7BitEncodedInt(names[keys[i]]);
                writer.Write(values[i]);
            }
            return;
        }
        foreach (var (name, value) in metrics)
        {
            writer.Write7BitEncodedInt(names[name]);
            writer.Write(value);
        }
    }

    static MetricValues ReadMetrics(BinaryReader reader, string[] names)
    {
        var count = reader.Read7BitEncodedInt();
        var keys = new string[count];
        var values = new double[count];
        for (var i = 0; i < count; i++)
        {
            keys[i] = names[reader.Read7BitEncodedInt()];
            values[i] = reader.ReadDouble();
        }
        return MetricValues.Wrap(keys, values);
    }

    static void Write(BinaryWriter writer, DateTimeOffset time)
    {
        writer.Write(time.UtcTicks);
        writer.Write((short)time.Offset.TotalMinutes);
    }

    static DateTimeOffset ReadTime(BinaryReader reader)
    {
        var utcTicks = reader.ReadInt64();
        var offset = TimeSpan.FromMinutes(reader.ReadInt16());
        return new DateTimeOffset(utcTicks + offset.Ticks, offset);
    }

    static void WriteNullable(BinaryWriter writer, DateTimeOffset? time)
    {
        writer.Write(time.HasValue);
        if (time is { } value)
        {
            Write(writer, value);
        }
    }

    static DateTimeOffset? ReadNullableTime(BinaryReader reader) => reader.ReadBoolean() ? ReadTime(reader) : null;

    static void WriteNullable(BinaryWriter writer, string? text)
    {
        writer.Write(text is not null);
        if (text is not null)
        {
            writer.Write(text);
        }
    }

    static string? ReadNullableString(BinaryReader reader) => reader.ReadBoolean() ? reader.ReadString() : null;
}
