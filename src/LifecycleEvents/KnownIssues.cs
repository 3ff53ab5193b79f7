using Npgsql;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Projections.Tail;

namespace Streaming.LifecycleEvents;

/// <summary>
/// The known issues open at a point of the log, learned from their streams in log order. A job an open issue names, or
/// whose labels match its selector, is held by it: never promoted, and shown apart from real regressions.
/// </summary>
public sealed class KnownIssues
{
    readonly SortedDictionary<string, KnownIssueOpened> _open = new(StringComparer.Ordinal);

    public async Task LoadAsync(NpgsqlDataSource dataSource, TailPosition checkpoint, CancellationToken cancellationToken)
    {
        foreach (var recorded in await new EventLog(dataSource).ReadStreamsUpToAsync(KnownIssueOpened.StreamPrefix, checkpoint, cancellationToken))
        {
            Observe(EventDecoder.Decode(recorded));
        }
    }

    public void Observe(LogEvent logEvent)
    {
        switch (logEvent.Type)
        {
            case KnownIssueOpened.EventType:
                var opened = logEvent.Read<KnownIssueOpened>();
                _open[opened.IssueId] = opened;
                break;
            case KnownIssueResolved.EventType:
                _open.Remove(logEvent.Read<KnownIssueResolved>().IssueId);
                break;
        }
    }

    /// <summary>The open issues that hold the job, by issue id.</summary>
    public IEnumerable<KnownIssueOpened> Holding(string jobId, IReadOnlyDictionary<string, string> labels) =>
        // Asked for every job a write saves: with no issue open, no iterator is made for it.
        _open.Count == 0 ? [] : Open(jobId, labels);

    IEnumerable<KnownIssueOpened> Open(string jobId, IReadOnlyDictionary<string, string> labels)
    {
        foreach (var issue in _open.Values)
        {
            if (issue.JobIds.Contains(jobId, StringComparer.Ordinal) || (issue.MatchLabels.Count > 0 && Matches(issue.MatchLabels, labels)))
            {
                yield return issue;
            }
        }
    }

    static bool Matches(IReadOnlyDictionary<string, string> selector, IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (name, value) in selector)
        {
            if (!labels.TryGetValue(name, out var actual) || !string.Equals(actual, value, StringComparison.Ordinal))
            {
                return false;
            }
        }
        return true;
    }
}
