using System.Security.Cryptography;
using System.Text;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Lifecycle;

namespace Streaming.Promoter.Policies;

/// <summary>
/// Publishes policy documents as <c>policy-published/v1</c> events, one stream per policy name, each version the
/// next number. An invalid document is refused with its errors and the running version stays; a document identical to
/// the latest version publishes nothing. Two publishers racing for a version cannot both win: the append expects the
/// stream's version.
/// </summary>
public sealed class PolicyPublisher(EventStreams streams, TimeProvider clock)
{
    /// <summary>Publishes a policy in force, or with <paramref name="shadow"/> a shadow policy that only says what it would do.</summary>
    public async Task<PolicyPublication> PublishAsync(string text, string publishedBy, CancellationToken cancellationToken, bool shadow = false)
    {
        var parsed = PolicyDocument.Parse(text, version: 1);
        if (parsed.Policy is not { } policy)
        {
            return PolicyPublication.Rejected(parsed.Errors);
        }
        var stream = shadow ? PolicyPublished.ShadowStreamFor(policy.Name) : PolicyPublished.StreamFor(policy.Name);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
        while (true)
        {
            var latest = await streams.ReadStreamBackwardAsync(stream, long.MaxValue, 1, cancellationToken);
            var current = latest.Count == 0 ? null : ContractsJson.Deserialize<PolicyPublished>(latest[0].Data);
            if (current?.Sha256 == sha256)
            {
                return new PolicyPublication(PolicyPublicationOutcome.Unchanged, policy.Name, current.Version, []);
            }
            var version = (current?.Version ?? 0) + 1;
            var now = clock.GetUtcNow();
            var published = new PolicyPublished(policy.Name, version, text, sha256, publishedBy, now);
            try
            {
                await streams.AppendToStreamAsync(stream, latest.Count == 0 ? ExpectedVersion.NoStream : latest[0].Version,
                    [new EventToAppend(shadow ? EventIds.ForShadowPolicy(policy.Name, version) : EventIds.ForPolicy(policy.Name, version), PolicyPublished.EventType, ContractsJson.Serialize(published),
                        ContractsJson.Serialize(new EventMetadata(null, null)), now)],
                    cancellationToken);
                return new PolicyPublication(PolicyPublicationOutcome.Published, policy.Name, version, []);
            }
            catch (WrongExpectedVersionException)
            {
                // Another publisher took this version: look at what it published and try again.
            }
        }
    }

    /// <summary>Every published version of a policy, oldest first.</summary>
    public async Task<IReadOnlyList<PolicyPublished>> HistoryAsync(string name, CancellationToken cancellationToken)
    {
        var events = await streams.ReadStreamForwardAsync(PolicyPublished.StreamFor(name), 1, int.MaxValue, cancellationToken);
        return [.. events.Where(e => e.Type == PolicyPublished.EventType).Select(e => ContractsJson.Deserialize<PolicyPublished>(e.Data))];
    }
}
