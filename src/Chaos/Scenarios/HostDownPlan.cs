using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Streaming.Chaos.Environment;
using Streaming.Hosting.Supervision;

namespace Streaming.Chaos.Scenarios;

/// <summary>
/// The host of one Promoter (of shard 0's copies, the one following most partitions) goes down at 40% of the stream for <c>down</c>: the process is killed
/// (SIGKILL), and each restart of it by the supervisor is killed as soon as it appears, before it can rejoin its group,
/// until the time is up; then it comes back. Meanwhile the partitions it followed (the control partition aside, which
/// every Promoter follows) must be followed by the other Promoters of its shard within <c>limit</c> of the kill, as
/// their own logs say (<c>the tail follows partitions …</c>).
/// </summary>
public sealed partial class HostDownPlan(TimeSpan down, TimeSpan limit, int instances, int shards) : IFaultPlan
{
    readonly List<string> _injected = [];
    readonly List<string> _unmet = [];
    int _kills;
    Task? _outage;

    public string Name => "Promoter host down";

    public IReadOnlyList<string> Injected => _injected;

    public IReadOnlyList<string> Unmet => _unmet;

    public int ExpectedExits => _kills;

    public Task AtAsync(long sent, FaultContext context, CancellationToken cancellationToken)
    {
        if (_outage is not null || sent < context.TotalMessages * 4 / 10)
        {
            return Task.CompletedTask;
        }
        _outage = DownAsync(sent, context.Services, cancellationToken);
        return Task.CompletedTask;
    }

    public Task FinishAsync(FaultContext context, CancellationToken cancellationToken) => _outage ?? Task.CompletedTask;

    async Task DownAsync(long sent, SupervisedServices services, CancellationToken cancellationToken)
    {
        // The copy with the most of the shard's partitions (the group shares out the shard's alone, but with more copies
        // than the shard has partitions one has none).
        var copies = Enumerable.Range(1, instances).Select(copy => SupervisedServices.ProcessName("promoter", 0, copy, instances, shards))
            .Select(name => (Name: name, Followed: Followed(services.OutputOf(name)).Where(p => p != 0).ToHashSet())).ToList();
        var (victim, followed) = copies.MaxBy(c => c.Followed.Count);
        var others = copies.Select(c => c.Name).Where(name => name != victim).ToList();
        var from = services.OutputCount;
        var pid = await services.WaitForPidAsync(victim, null, TimeSpan.FromMinutes(1), cancellationToken);
        var clock = Stopwatch.StartNew();
        PosixSignals.Send(pid, PosixSignals.Kill);
        _kills++;
        _injected.Add(string.Create(CultureInfo.InvariantCulture,
            $"{victim}'s host down for {down.TotalSeconds:0} s after {sent:N0} messages (it followed {Describe(followed)})"));
        TimeSpan? takenOver = null;
        while (clock.Elapsed < down)
        {
            // A restart is killed before it can rejoin: a .NET host takes far longer to start than this loop to see its pid.
            if (services.Pid(victim) is { } restarted && restarted != pid && LiveProcess.IsRunning(restarted))
            {
                PosixSignals.Send(restarted, PosixSignals.Kill);
                pid = restarted;
                _kills++;
            }
            if (takenOver is null && followed.Count > 0
                && followed.IsSubsetOf(others.SelectMany(other => Followed(services.OutputOf(other, from)))))
            {
                takenOver = clock.Elapsed;
            }
            await Task.Delay(20, cancellationToken);
        }
        _injected[^1] += takenOver is { } after
            ? string.Create(CultureInfo.InvariantCulture, $"; the others followed them {after.TotalSeconds:0.0} s after the kill")
            : "; the others never followed them all";
        _injected[^1] += string.Create(CultureInfo.InvariantCulture, $" (killed {_kills} times, its restarts included)");
        if (followed.Count == 0)
        {
            _unmet.Add($"{victim} followed none of its shard's partitions before the kill: nothing to take over");
        }
        else if (takenOver is not { } taken || taken > limit)
        {
            _unmet.Add(string.Create(CultureInfo.InvariantCulture,
                $"{victim}'s {Describe(followed)} were not followed by {string.Join(", ", others)} within {limit.TotalSeconds:0} s of the kill"));
        }
    }

    // The partitions the last "the tail follows partitions …" line of a process's output names.
    static IReadOnlySet<int> Followed(IReadOnlyList<string> output) =>
        output.Select(line => FollowsLine().Match(line)).LastOrDefault(m => m.Success) is { } last
            ? last.Groups[1].Value.Split(',').Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToHashSet()
            : new HashSet<int>();

    static string Describe(IEnumerable<int> partitions) => "partitions " + string.Join(",", partitions.Order());

    [GeneratedRegex(@"the tail follows partitions ([0-9,]+)")]
    private static partial Regex FollowsLine();
}
