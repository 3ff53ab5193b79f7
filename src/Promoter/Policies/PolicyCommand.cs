using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting;
using Streaming.Lifecycle;
using Streaming.Promoter.Shadows;

namespace Streaming.Promoter.Policies;

/// <summary>
/// <c>Streaming.Promoter policy validate FILE</c> checks a document without a database;
/// <c>policy publish FILE [--by NAME]</c> publishes it as the policy's next version (unless it is unchanged);
/// <c>policy history NAME</c> lists the published versions. A rejected document prints every error with its line and
/// field and exits with 2; the running version stays in force.
/// </summary>
public static class PolicyCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        switch (args)
        {
            case ["validate", var path]:
                return Report(PolicyDocument.Parse(await File.ReadAllTextAsync(path), version: 1), path);
            case ["publish", var path, .. var rest] when PublishOptions(rest) is { } options:
                return await PublishAsync(path, options.By, options.Shadow);
            case ["shadow-report"]:
                return await ShadowReportAsync();
            case ["history", var name]:
                return await HistoryAsync(name);
            default:
                await Console.Error.WriteLineAsync("usage: policy validate FILE | policy publish FILE [--by NAME] [--shadow] | policy history NAME | policy shadow-report");
                return 2;
        }
    }

    // [--by NAME] [--shadow], in any order; null when anything else is given.
    static (string By, bool Shadow)? PublishOptions(string[] args)
    {
        var (by, shadow) = (Environment.UserName, false);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--shadow":
                    shadow = true;
                    break;
                case "--by" when i + 1 < args.Length:
                    by = args[++i];
                    break;
                default:
                    return null;
            }
        }
        return (by, shadow);
    }

    static int Report(PolicyParseResult parsed, string path)
    {
        if (parsed.Policy is { } policy)
        {
            Console.WriteLine($"{path}: valid policy {policy.Name}: {string.Join(" → ", policy.Phases)}");
            return 0;
        }
        foreach (var error in parsed.Errors)
        {
            Console.Error.WriteLine($"{path}: {error}");
        }
        return 2;
    }

    static async Task<int> PublishAsync(string path, string publishedBy, bool shadow)
    {
        await using var dataSource = DataSource();
        await EventStoreSchema.MigrateAsync(dataSource, CancellationToken.None);
        var publisher = new PolicyPublisher(new EventStreams(dataSource), TimeProvider.System);
        var publication = await publisher.PublishAsync(await File.ReadAllTextAsync(path), publishedBy, CancellationToken.None, shadow);
        switch (publication.Outcome)
        {
            case PolicyPublicationOutcome.Published:
                Console.WriteLine($"published {(shadow ? "shadow policy" : "policy")} {publication.Name} version {publication.Version}");
                return 0;
            case PolicyPublicationOutcome.Unchanged:
                Console.WriteLine($"{publication.Name} version {publication.Version} already has this text; nothing published");
                return 0;
            default:
                foreach (var error in publication.Errors)
                {
                    Console.Error.WriteLine($"{path}: {error}");
                }
                Console.Error.WriteLine("not published; the version in force stays");
                return 2;
        }
    }

    static async Task<int> HistoryAsync(string name)
    {
        await using var dataSource = DataSource();
        var publisher = new PolicyPublisher(new EventStreams(dataSource), TimeProvider.System);
        foreach (var version in await publisher.HistoryAsync(name, CancellationToken.None))
        {
            Console.WriteLine($"{version.Name}@{version.Version}\t{version.PublishedAt:u}\t{version.PublishedBy}\tsha256 {version.Sha256[..12]}");
        }
        return 0;
    }

    static async Task<int> ShadowReportAsync()
    {
        await using var dataSource = DataSource();
        await EventStoreSchema.MigrateAsync(dataSource, CancellationToken.None);
        Console.WriteLine("shadow policy         agreed   real only   shadow only   open   agreement   mean lead");
        foreach (var counts in (await ShadowStateTable.LoadAgreementAsync(dataSource, CancellationToken.None)).Values.OrderBy(c => c.Policy, StringComparer.Ordinal))
        {
            var lead = counts.Agreed == 0 ? "-" : $"{counts.LeadSeconds / counts.Agreed / 60:0.#} min";
            Console.WriteLine($"{counts.Policy,-20} {counts.Agreed,7} {counts.LiveOnly,11} {counts.ShadowOnly,13} {counts.Open,6} {counts.AgreementRate,11:P1}   {lead}");
        }
        return 0;
    }

    static NpgsqlDataSource DataSource() =>
        NpgsqlDataSource.Create(ServiceDefaults.ConnectionStringFromEnvironment());
}
