using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting;
using Streaming.Lifecycle;

namespace Streaming.Promoter.Overrides;

/// <summary>
/// <c>Streaming.Promoter override hold|release|pin|force-promote|force-demote JOB [PHASE] --reason TEXT [--by NAME] [--for DURATION]</c>:
/// records an override of one job. A hold or pin lasts until released, or for DURATION of the job's event time.
/// </summary>
public static class OverrideCommand
{
    const string Usage =
        "usage: override hold|release|pin|force-promote|force-demote JOB [PHASE (pin only)] --reason TEXT [--by NAME] [--for DURATION (hold, pin)]";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is not [var kindName, var job, .. var rest] || !OverrideKinds.TryParse(kindName, out var kind))
        {
            return Fail(Usage);
        }
        string? phase = null;
        if (kind == OverrideKind.Pin)
        {
            if (rest is not [var pinned, ..] || pinned.StartsWith("--", StringComparison.Ordinal))
            {
                return Fail("a pin needs the phase: override pin JOB PHASE --reason TEXT");
            }
            phase = pinned;
            rest = rest[1..];
        }
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < rest.Length; i += 2)
        {
            options[rest[i]] = rest[i + 1];
        }
        if (rest.Length % 2 != 0 || options.Keys.Any(k => k is not ("--reason" or "--by" or "--for")))
        {
            return Fail(Usage);
        }
        if (!options.TryGetValue("--reason", out var reason) || string.IsNullOrWhiteSpace(reason))
        {
            return Fail("--reason is required: every override says why");
        }
        TimeSpan? lasting = null;
        if (options.TryGetValue("--for", out var duration))
        {
            if (!PolicyDurations.TryParse(duration, out var parsed) || parsed <= TimeSpan.Zero)
            {
                return Fail($"--for: '{duration}' is not a duration ({PolicyDurations.Rule})");
            }
            lasting = parsed;
        }
        await using var dataSource = NpgsqlDataSource.Create(ServiceDefaults.ConnectionStringFromEnvironment());
        await EventStoreSchema.MigrateAsync(dataSource, CancellationToken.None);
        try
        {
            var set = await new OverrideWriter(new EventStreams(dataSource), TimeProvider.System)
                .SetAsync(job, kind, phase, options.GetValueOrDefault("--by") ?? Environment.UserName, reason, lasting, CancellationToken.None);
            Console.WriteLine($"override {set.OverrideId}: {set.Kind}{(phase is null ? "" : " " + phase)} of {job} by {set.Actor}" +
                (set.ExpiresAt is { } until ? $" until {until:u}" : ""));
            return 0;
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message);
        }
    }

    static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }
}
