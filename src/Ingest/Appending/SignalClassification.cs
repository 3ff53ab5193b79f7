using System.Text;
using Streaming.EventStore;

namespace Streaming.Ingest.Appending;

/// <summary>
/// Decides, in the client, what becomes of each signal of a batch given its streams' heads as read under their locks:
/// appended (with its version), a duplicate or conflicting repeat of a seq already in the batch or the store, or stale.
/// A signal is new when its seq is above its stream's last stored seq and every seq appended before it in the batch;
/// a repeat of a stored seq needs the stored body (<see cref="StoredLookups"/>), then <see cref="Settle"/>.
/// </summary>
sealed class SignalClassification
{
    readonly IReadOnlyList<SignalToAppend> _signals;
    readonly SignalAppendOutcome[] _outcomes;
    readonly long[] _versions;
    readonly List<int> _lookups = [];
    readonly Dictionary<string, StreamHead> _heads;

    public SignalClassification(IReadOnlyList<SignalToAppend> signals, IReadOnlyDictionary<string, StreamHead> storedHeads)
    {
        _signals = signals;
        _outcomes = new SignalAppendOutcome[signals.Count];
        _versions = new long[signals.Count];
        _heads = new Dictionary<string, StreamHead>(storedHeads.Count, StringComparer.Ordinal);
        var appendedAt = new Dictionary<(string, long), int>();
        for (var i = 0; i < signals.Count; i++)
        {
            var signal = signals[i];
            var stored = storedHeads.TryGetValue(signal.StreamId, out var found) ? found : new StreamHead(0, null);
            var head = _heads.TryGetValue(signal.StreamId, out var moved) ? moved : stored;
            if (head.LastSeq is not { } last || signal.Seq > last)
            {
                _heads[signal.StreamId] = new StreamHead(head.Version + 1, signal.Seq, head.Partition);
                _versions[i] = head.Version + 1;
                _outcomes[i] = SignalAppendOutcome.Appended;
                appendedAt[(signal.StreamId, signal.Seq)] = i;
            }
            else if (appendedAt.TryGetValue((signal.StreamId, signal.Seq), out var first))
            {
                _outcomes[i] = Repeat(signals[first].Data, signal.Data);
            }
            else if (stored.LastSeq is { } storedLast && signal.Seq <= storedLast)
            {
                _lookups.Add(i);
            }
            else
            {
                _outcomes[i] = SignalAppendOutcome.Stale;
            }
        }
    }

    /// <summary>The signals to append, in input order, with the versions they get.</summary>
    public IEnumerable<(SignalToAppend Signal, long Version)> Appended =>
        _signals.Select((signal, i) => (signal, _versions[i])).Where((_, i) => _outcomes[i] == SignalAppendOutcome.Appended);

    /// <summary>The streams whose heads move, with their new version and last seq.</summary>
    public IReadOnlyDictionary<string, StreamHead> MovedHeads => _heads;

    /// <summary>Indexes of the signals repeating a seq stored before this batch: their stored bodies decide.</summary>
    public IReadOnlyList<int> StoredLookups => _lookups;

    /// <summary>Classifies the repeats of stored seqs from the bodies found, by index (missing: never stored, so stale).</summary>
    public SignalBatchResult Settle(IReadOnlyDictionary<int, string> storedBodies)
    {
        foreach (var i in _lookups)
        {
            _outcomes[i] = storedBodies.TryGetValue(i, out var body) ? Repeat(Encoding.UTF8.GetBytes(body), _signals[i].Data) : SignalAppendOutcome.Stale;
        }
        return new SignalBatchResult(_outcomes, _versions);
    }

    static SignalAppendOutcome Repeat(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> again) =>
        SameContent.Of(first, again) ? SignalAppendOutcome.Duplicate : SignalAppendOutcome.Conflicting;
}
