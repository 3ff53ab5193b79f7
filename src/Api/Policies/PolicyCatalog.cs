using System.Collections.Concurrent;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Lifecycle;

namespace Streaming.Api.Policies;

/// <summary>
/// Every published version of every policy, read from the <c>policy:{name}</c> streams and parsed once: a job's row
/// names the version that governs it (<c>cdc-migration@2</c>), and explanations use exactly that one.
/// </summary>
public sealed class PolicyCatalog(NpgsqlDataSource dataSource)
{
    readonly ConcurrentDictionary<string, PolicyPublished> _published = new(StringComparer.Ordinal);
    readonly ConcurrentDictionary<string, LifecyclePolicy?> _parsed = new(StringComparer.Ordinal);
    readonly SemaphoreSlim _refresh = new(1, 1);

    /// <summary>The policy a job's row names, or null for <c>none</c> or an unknown version.</summary>
    public async Task<LifecyclePolicy?> FindAsync(string id, CancellationToken cancellationToken)
    {
        if (!id.Contains('@', StringComparison.Ordinal))
        {
            return null;
        }
        if (!_published.ContainsKey(id))
        {
            await RefreshAsync(cancellationToken);
        }
        return _published.TryGetValue(id, out var published)
            ? _parsed.GetOrAdd(id, _ => PolicyDocument.Parse(published.Text, published.Version).Policy)
            : null;
    }

    /// <summary>Every version of every policy in force (not shadow), by name then version.</summary>
    public async Task<IReadOnlyList<PolicyPublished>> AllAsync(CancellationToken cancellationToken)
    {
        await RefreshAsync(cancellationToken);
        return [.. _published.Values.OrderBy(p => p.Name, StringComparer.Ordinal).ThenBy(p => p.Version)];
    }

    async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            // Policy versions are few: read them all again, so none that committed late is ever missed.
            await using var command = dataSource.CreateCommand("""
                select data from es.events
                where stream_id = any(array(select stream_id from es.streams where starts_with(stream_id, $1))) and type = $2
                """);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PolicyPublished.StreamPrefix });
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = PolicyPublished.EventType });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var published = ContractsJson.Deserialize<PolicyPublished>(reader.GetString(0));
                _published[$"{published.Name}@{published.Version}"] = published;
            }
        }
        finally
        {
            _refresh.Release();
        }
    }
}
