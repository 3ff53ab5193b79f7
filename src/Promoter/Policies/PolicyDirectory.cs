using Microsoft.Extensions.Logging;
using Streaming.Hosting.Resilience;

namespace Streaming.Promoter.Policies;

/// <summary>
/// Keeps the store's policies in step with a folder of documents: each changed document is published as a new
/// version; an invalid one is logged with every error and changes nothing, so the last good version stays in force.
/// Documents in its <c>shadow</c> subfolder are published as shadow policies.
/// </summary>
public sealed partial class PolicyDirectory(PolicyPublisher publisher, PromoterOptions options, ILogger<PolicyDirectory> logger)
{
    readonly Dictionary<string, DateTime> _seen = new(StringComparer.Ordinal);

    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var directory = options.ResolvedPolicyDirectory;
        if (!Directory.Exists(directory))
        {
            LogMissing(directory);
            return;
        }
        var shadows = Path.Combine(directory, "shadow");
        var documents = Directory.EnumerateFiles(directory, "*.yaml").Select(p => (Path: p, Shadow: false))
            .Concat(Directory.Exists(shadows) ? Directory.EnumerateFiles(shadows, "*.yaml").Select(p => (Path: p, Shadow: true)) : []);
        foreach (var (path, shadow) in documents.OrderBy(d => d.Path, StringComparer.Ordinal))
        {
            var written = File.GetLastWriteTimeUtc(path);
            if (_seen.TryGetValue(path, out var seen) && seen == written)
            {
                continue;
            }
            var publication = await publisher.PublishAsync(
                await File.ReadAllTextAsync(path, cancellationToken), $"{Environment.UserName}@{Environment.MachineName}:{path}", cancellationToken, shadow);
            switch (publication.Outcome)
            {
                case PolicyPublicationOutcome.Published:
                    LogPublished(publication.Name!, publication.Version, path);
                    break;
                case PolicyPublicationOutcome.Rejected:
                    LogRejected(path, string.Join(Environment.NewLine, publication.Errors));
                    break;
            }
            _seen[path] = written;
        }
    }

    /// <summary>Looks at the folder again at every scan interval until cancelled; a failed look is retried, through <paramref name="outage"/>, when the database is away.</summary>
    public async Task RunAsync(Outage outage, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.PolicyScanInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    await SyncAsync(cancellationToken);
                    if (outage.InProgress)
                    {
                        outage.Succeeded();
                    }
                }
                catch (Exception e) when (!cancellationToken.IsCancellationRequested && TransientFaults.IsTransient(e))
                {
                    // The next tick tries again; a longer outage waits longer between tries.
                    await Outage.WaitAsync(outage.Failed(e, options.PolicyScanInterval), cancellationToken);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Published policy {Policy} version {Version} from {Path}")]
    partial void LogPublished(string policy, int version, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Policy document {Path} is invalid and was not published; the last good version stays in force:\n{Errors}")]
    partial void LogRejected(string path, string errors);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Policy folder {Directory} does not exist; only policies already in the store are in force")]
    partial void LogMissing(string directory);
}
