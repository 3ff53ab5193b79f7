using Microsoft.Extensions.Logging;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Projections.Tail;

namespace Streaming.LifecycleEvents;

/// <summary>
/// The lifecycle policies in force at a point of the log: the latest published version of each, learned from
/// <c>policy-published/v1</c> events in log order, so live folds, rebuilds and backtests bind every job to the same
/// version at the same event. A job is governed by the matching policy of highest priority (then by name).
/// </summary>
public sealed partial class ActivePolicies(ILogger logger, string streamPrefix = PolicyPublished.StreamPrefix)
{
    readonly SortedDictionary<string, LifecyclePolicy> _byName = new(StringComparer.Ordinal);
    LifecyclePolicy[] _ranked = [];
    LifecyclePolicy? _substitute;

    public IReadOnlyCollection<LifecyclePolicy> All => _ranked;

    /// <summary>Learns the policies published at or before <paramref name="checkpoint"/>, for a fold resuming there.</summary>
    public async Task LoadAsync(NpgsqlDataSource dataSource, TailPosition checkpoint, CancellationToken cancellationToken)
    {
        foreach (var recorded in await new EventLog(dataSource).ReadStreamsUpToAsync(streamPrefix, checkpoint, cancellationToken))
        {
            Observe(EventDecoder.Decode(recorded));
        }
    }

    /// <summary>Learns a policy version from its stream's event (streams of this set's prefix only); anything else is ignored.</summary>
    public void Observe(LogEvent logEvent)
    {
        if (logEvent.Type != PolicyPublished.EventType || !logEvent.StreamId.StartsWith(streamPrefix, StringComparison.Ordinal))
        {
            return;
        }
        var published = logEvent.Read<PolicyPublished>();
        if (published.Name == _substitute?.Name)
        {
            return;
        }
        var parsed = PolicyDocument.Parse(published.Text, published.Version);
        if (parsed.Policy is not { } policy)
        {
            // Validated when published; a build that reads documents more strictly keeps the version it had.
            LogUnreadable(published.Name, published.Version, string.Join("; ", parsed.Errors));
            return;
        }
        Put(policy);
    }

    /// <summary>
    /// For backtests: <paramref name="candidate"/> governs from the start of the log in place of every version published
    /// under its name; the other policies come and go as recorded.
    /// </summary>
    public void Substitute(LifecyclePolicy candidate)
    {
        _substitute = candidate;
        Put(candidate);
    }

    void Put(LifecyclePolicy policy)
    {
        _byName[policy.Name] = policy;
        _ranked = [.. _byName.Values.OrderByDescending(p => p.Priority).ThenBy(p => p.Name, StringComparer.Ordinal)];
    }

    /// <summary>The policy that governs a job with these labels, or null when none selects it.</summary>
    public LifecyclePolicy? For(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var policy in _ranked)
        {
            if (policy.Selector.Matches(labels))
            {
                return policy;
            }
        }
        return null;
    }

    public LifecyclePolicy? Named(string name) => _byName.GetValueOrDefault(name);

    [LoggerMessage(Level = LogLevel.Error, Message = "Policy {Policy} version {Version} cannot be read by this build and is not used: {Errors}")]
    partial void LogUnreadable(string policy, int version, string errors);
}
