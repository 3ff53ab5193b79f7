using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.EventStore;
using Streaming.Lifecycle;
using Streaming.Promoter.Backtesting;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Fleet;
using Streaming.Promoter.Policies;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.EndToEnd;

/// <summary>
/// A promotion window, a paused gate and a paused fleet through the running Promoter and Projector, in event time from
/// the jobs' signals; then backtests of the stored history, as an analyst runs them, that reproduce every move and every
/// hold, and that differ once the window is taken out or the pauses are ignored.
/// </summary>
public sealed class GateBacktestTests(Pipeline pipeline, ITestOutputHelper testOutput) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    // Saturday 7 March 2026, 11:00 in Berlin (CET); the Monday after, 09:00 there; then Tuesday and Wednesday mornings.
    static readonly DateTimeOffset Saturday = new(2026, 3, 7, 10, 0, 0, TimeSpan.Zero);
    static readonly DateTimeOffset MondayNine = new(2026, 3, 9, 8, 0, 0, TimeSpan.Zero);
    static readonly DateTimeOffset Tuesday = new(2026, 3, 10, 10, 0, 0, TimeSpan.Zero);
    static readonly DateTimeOffset Wednesday = new(2026, 3, 11, 10, 0, 0, TimeSpan.Zero);
    static readonly DateTimeOffset Thursday = new(2026, 3, 12, 10, 0, 0, TimeSpan.Zero);

    const string Windowed = "gbt-window-1";
    const string WindowDemoted = "gbt-window-9";
    const string GatePaused = "gbt-pause-1";
    const string PauseDemoted = "gbt-pause-9";
    const string FleetPaused = "gbt-expiry-1";
    const string Tripped = "gbt-window-2";

    /// <summary>shadow → reverse_shadow after a 5-minute soak on a clean error rate; back to shadow on a bad one.</summary>
    static string Policy(string name, string gate, string controls = "") => $$"""
        name: {{name}}
        priority: 10
        selector:
          matchLabels: { gate: {{gate}} }
        phases: [shadow, reverse_shadow]
        {{controls}}
        gates:
          - from: shadow
            to: reverse_shadow
            soak: 5m
            promote:
              window: 5m
              criteria:
                - { metric: error_rate, aggregation: max, comparison: "<=", threshold: 0.01 }
            demote:
              window: 5m
              criteria:
                - { metric: error_rate, aggregation: last, comparison: "<=", threshold: 0.02 }
        """;

    const string WorkingHours = """
        windows:
          - { days: [mon-fri], from: "09:00", to: "17:00", timeZone: Europe/Berlin }
        """;

    static readonly string WindowedPolicy = Policy("windowed-gate", "window", WorkingHours);
    static readonly string PausedPolicy = Policy("paused-gate", "pause");

    readonly StoreProbe _store = new(pipeline.Database);
    readonly Dictionary<string, long> _seq = new(StringComparer.Ordinal);

    [Fact]
    public async Task Windows_and_pauses_hold_promotions_live_while_demotions_go_on_and_a_backtest_reproduces_every_move_and_hold()
    {
        // Given a policy promoting only in Berlin's working hours, and one without windows whose gate an operator pauses
        var publisher = pipeline.DeciderServices.GetRequiredService<PolicyPublisher>();
        foreach (var document in new[] { WindowedPolicy, PausedPolicy })
        {
            Assert.NotEqual(PolicyPublicationOutcome.Rejected, (await publisher.PublishAsync(document, "tests", CancellationToken.None)).Outcome);
        }
        var pauses = new PauseWriter(pipeline.DeciderServices.GetRequiredService<EventStreams>(), TimeProvider.System);
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);

        // When a job passes its criteria on a Saturday, and another, in reverse_shadow, fails then
        producer.Produce(Minutes(Windowed, "window", "shadow", Saturday, 10, SignalFactory.Good)
            .Concat(Minutes(WindowDemoted, "window", "reverse_shadow", Saturday, 3, SignalFactory.Good))
            .Concat(Minutes(WindowDemoted, "window", "reverse_shadow", Saturday.AddMinutes(3), 2, SignalFactory.Failing)));
        await ProcessedAsync(Windowed, WindowDemoted);

        // Then the first waits, recorded once as outside the window; the failing one is demoted all the same
        var windowWait = Assert.Single(await RecordedAsync<PromotionDeferred>(Windowed, PromotionDeferred.EventType));
        Assert.Equal((PromotionDeferred.Window, Saturday.AddMinutes(5)), (windowWait.Cause, windowWait.DecidedAt));
        Assert.Contains("mon,tue,wed,thu,fri 09:00-17:00 Europe/Berlin", windowWait.Reason, StringComparison.Ordinal);
        Assert.Empty(await RecordedAsync<PhaseChanged>(Windowed, PhaseChanged.EventType));
        var saturdayDemotion = Assert.Single(await RecordedAsync<PhaseChanged>(WindowDemoted, PhaseChanged.EventType));
        Assert.Equal(PhaseDecision.Demote, saturdayDemotion.Direction);
        Assert.Equal(DayOfWeek.Saturday, saturdayDemotion.DecidedAt.DayOfWeek);

        // When it signals on Monday from 08:50 Berlin time: still held until the window opens, promoted at its 09:00 signal
        producer.Produce(Minutes(Windowed, "window", "shadow", MondayNine.AddMinutes(-10), 11, SignalFactory.Good));
        await ProcessedAsync(Windowed);
        var mondayPromotion = Assert.Single(await RecordedAsync<PhaseChanged>(Windowed, PhaseChanged.EventType));
        Assert.Equal((PhaseDecision.Promote, MondayNine), (mondayPromotion.Direction, mondayPromotion.DecidedAt));
        Assert.Single(await RecordedAsync<PromotionDeferred>(Windowed, PromotionDeferred.EventType));

        // When an operator pauses promotions into reverse_shadow of the other policy, a job passes its gate and another fails
        await pauses.PauseAsync("paused-gate", "reverse_shadow", "alice", "incident 7", null, CancellationToken.None);
        producer.Produce(Minutes(GatePaused, "pause", "shadow", Tuesday, 10, SignalFactory.Good)
            .Concat(Minutes(PauseDemoted, "pause", "reverse_shadow", Tuesday, 3, SignalFactory.Good))
            .Concat(Minutes(PauseDemoted, "pause", "reverse_shadow", Tuesday.AddMinutes(3), 2, SignalFactory.Failing)));
        await ProcessedAsync(GatePaused, PauseDemoted);

        // Then the promotion is held, recorded once as paused by alice, and the demotion out of the paused phase happens
        var pauseWait = Assert.Single(await RecordedAsync<PromotionDeferred>(GatePaused, PromotionDeferred.EventType));
        Assert.Equal((PromotionDeferred.Paused, Tuesday.AddMinutes(5)), (pauseWait.Cause, pauseWait.DecidedAt));
        Assert.Contains("by alice: incident 7", pauseWait.Reason, StringComparison.Ordinal);
        Assert.Empty(await RecordedAsync<PhaseChanged>(GatePaused, PhaseChanged.EventType));
        var pausedDemotion = Assert.Single(await RecordedAsync<PhaseChanged>(PauseDemoted, PhaseChanged.EventType));
        Assert.Equal(("reverse_shadow", "shadow", PhaseDecision.Demote, Tuesday.AddMinutes(3)),
            (pausedDemotion.From, pausedDemotion.To, pausedDemotion.Direction, pausedDemotion.DecidedAt));

        // When the gate is resumed, the held job's next signal promotes it
        await pauses.ResumeAsync("paused-gate", "reverse_shadow", "alice", "incident 7 over", CancellationToken.None);
        producer.Produce(Minutes(GatePaused, "pause", "shadow", Tuesday.AddMinutes(10), 1, SignalFactory.Good));
        await ProcessedAsync(GatePaused);
        var resumedPromotion = Assert.Single(await RecordedAsync<PhaseChanged>(GatePaused, PhaseChanged.EventType));
        Assert.Equal((PhaseDecision.Promote, Tuesday.AddMinutes(10)), (resumedPromotion.Direction, resumedPromotion.DecidedAt));

        // When the whole fleet is paused for 30 minutes (of event time, from where the pause stands in the log)
        producer.Produce(Minutes(FleetPaused, "pause", "shadow", Wednesday, 1, SignalFactory.Good));
        await ProcessedAsync(FleetPaused);
        await pauses.PauseAsync(null, null, "bob", "change freeze", TimeSpan.FromMinutes(30), CancellationToken.None);
        producer.Produce(Minutes(FleetPaused, "pause", "shadow", Wednesday.AddMinutes(1), 34, SignalFactory.Good));
        await ProcessedAsync(FleetPaused);

        // Then a job passing at minute 5 waits, and is promoted at the signal whose event time ends the pause, which the Promoter records
        var fleetWait = Assert.Single(await RecordedAsync<PromotionDeferred>(FleetPaused, PromotionDeferred.EventType));
        Assert.Equal((PromotionDeferred.Paused, Wednesday.AddMinutes(5)), (fleetWait.Cause, fleetWait.DecidedAt));
        var expiredPromotion = Assert.Single(await RecordedAsync<PhaseChanged>(FleetPaused, PhaseChanged.EventType));
        Assert.Equal((PhaseDecision.Promote, Wednesday.AddMinutes(30)), (expiredPromotion.Direction, expiredPromotion.DecidedAt));
        var expiry = Assert.Single(await RecordedAsync<PromotionsResumed>(PromotionsPaused.StreamFor(null, null), PromotionsResumed.EventType));
        Assert.Equal((true, GateKeeper.PromoterActor, Wednesday.AddMinutes(30)), (expiry.Expired, expiry.Actor, expiry.At));

        // When an operator trips the windowed policy's breaker by hand on Thursday morning, within the window
        await pauses.TripBreakerAsync("windowed-gate", "reverse_shadow", "carol", "target degraded", CancellationToken.None);
        producer.Produce(Minutes(Tripped, "window", "shadow", Thursday, 10, SignalFactory.Good));
        await ProcessedAsync(Tripped);

        // Then a job passing its gate waits for the breaker until it is reset, and its next signal promotes it
        var breakerWait = Assert.Single(await RecordedAsync<PromotionDeferred>(Tripped, PromotionDeferred.EventType));
        Assert.Equal((PromotionDeferred.Breaker, Thursday.AddMinutes(5)), (breakerWait.Cause, breakerWait.DecidedAt));
        Assert.Empty(await RecordedAsync<PhaseChanged>(Tripped, PhaseChanged.EventType));
        await new FleetWriter(pipeline.DeciderServices.GetRequiredService<EventStreams>(), TimeProvider.System)
            .ResetBreakerAsync("windowed-gate", "reverse_shadow", "carol", "target healthy", CancellationToken.None);
        producer.Produce(Minutes(Tripped, "window", "shadow", Thursday.AddMinutes(10), 1, SignalFactory.Good));
        await ProcessedAsync(Tripped);
        Assert.Equal(Thursday.AddMinutes(10), Assert.Single(await RecordedAsync<PhaseChanged>(Tripped, PhaseChanged.EventType)).DecidedAt);

        // And a backtest of the stored history with the policy as it was makes every recorded move and hold, one for one
        var live = await LiveMovesAsync();
        Assert.Equal(6, live.Count);
        var liveHolds = await LiveHoldsAsync();
        Assert.Equal(4, liveHolds.Count);
        var (same, report) = await BacktestAsync(WindowedPolicy);
        Assert.True(report.BaselineReproducesRecord, $"{report.BaselineMismatches} decisions differ");
        Assert.True(report.BaselineReproducesDeferrals, $"{report.DeferralMismatches} holds differ");
        Assert.Equal((6, 4), (report.RecordedDecisions, report.RecordedDeferrals));
        Assert.Equal(live, Moves(same, "baseline"));
        Assert.Equal(liveHolds, Holds(same, "baseline"));
        Assert.Equal(live, Moves(same, "candidate"));
        Assert.Equal(liveHolds, Holds(same, "candidate"));
        Assert.Equal(new Dictionary<string, int> { [PromotionDeferred.Breaker] = 1, [PromotionDeferred.Paused] = 2, [PromotionDeferred.Window] = 1 }, report.Baseline.Held);
        Assert.Equal(0, report.JobsDiffering);

        // And without the window the candidate promotes on Saturday; with the pauses ignored, when the pauses began to hold
        var (_, unwindowed) = await BacktestAsync(Policy("windowed-gate", "window"));
        Assert.True(unwindowed.BaselineReproducesRecord);
        var saturdayMove = Assert.Single(unwindowed.Differences);
        Assert.Equal(Windowed, saturdayMove.JobId);
        Assert.Equal(["shadow→reverse_shadow@2026-03-09T08:00:00Z"], saturdayMove.Baseline);
        Assert.Equal(["shadow→reverse_shadow@2026-03-07T10:05:00Z"], saturdayMove.Candidate);
        Assert.Equal(new Dictionary<string, int> { [PromotionDeferred.Breaker] = 1, [PromotionDeferred.Paused] = 2 }, unwindowed.CandidateSide.Held);

        var (unpaused, ignoringPauses) = await BacktestAsync(WindowedPolicy, withoutPauses: true);
        Assert.True(ignoringPauses.BaselineReproducesRecord);
        Assert.Equal([FleetPaused, GatePaused], ignoringPauses.Differences.Select(d => d.JobId));
        Assert.Equal(
            [(FleetPaused, Wednesday.AddMinutes(5)), (GatePaused, Tuesday.AddMinutes(5))],
            Moves(unpaused, "candidate").Where(m => m is { Direction: PhaseDecision.Promote, JobId: GatePaused or FleetPaused })
                .Select(m => (m.JobId, m.DecidedAt)).Order());
        Assert.Contains(Moves(unpaused, "candidate"), m => m is { JobId: PauseDemoted, Direction: PhaseDecision.Demote });
        Assert.Equal(new Dictionary<string, int> { [PromotionDeferred.Breaker] = 1, [PromotionDeferred.Window] = 1 }, ignoringPauses.CandidateSide.Held);

        // And the backtest command an analyst runs reports the same, from the history archive and the log
        var candidate = Path.Combine(Path.GetTempPath(), $"gbt-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(candidate, WindowedPolicy);
        try
        {
            var (exit, output, error) = await RunToolAsync("backtest", candidate, "--label", "gate=pause", "--label", "team=tests", "--without-pauses", "--per-job", "--json");
            Assert.True(exit == 0, error);
            var json = JsonNode.Parse(output)!;
            Assert.True(json["baselineReproducesRecord"]!.GetValue<bool>());
            Assert.True(json["baselineReproducesDeferrals"]!.GetValue<bool>());
            Assert.Equal((3, 2, 3), (json["jobs"]!.GetValue<int>(), json["recordedDeferrals"]!.GetValue<int>(), json["recordedDecisions"]!.GetValue<int>()));
            Assert.Equal(2, json["baseline"]!["held"]!["paused"]!.GetValue<int>());
            Assert.Equal([FleetPaused, GatePaused], json["differences"]!.AsArray().Select(d => d!["jobId"]!.GetValue<string>()));

            (exit, output, error) = await RunToolAsync("backtest", candidate, "--job", GatePaused, "--job", PauseDemoted, "--without-pauses", "--per-job");
            Assert.True(exit == 0, error);
            testOutput.WriteLine(output);
            Assert.Contains("recorded decisions: 2; the recorded policies replayed reproduce them: yes", output, StringComparison.Ordinal);
            Assert.Contains("recorded holds (promotions deferred): 1; reproduced: yes", output, StringComparison.Ordinal);
            Assert.Matches(@"held \(paused\) +1 +0", output);
            Assert.Contains($"{GatePaused}: recorded [shadow→reverse_shadow@2026-03-10T10:10:00Z] candidate [shadow→reverse_shadow@2026-03-10T10:05:00Z]",
                output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(candidate);
        }
    }

    IEnumerable<JobSignal> Minutes(string job, string gate, string phase, DateTimeOffset from, int minutes, IReadOnlyDictionary<string, double> metrics)
    {
        var labels = new Dictionary<string, string> { ["gate"] = gate, ["team"] = "tests" };
        var first = _seq.GetValueOrDefault(job);
        _seq[job] = first + minutes;
        return Enumerable.Range(0, minutes).Select(m => SignalFactory.Signal(job, first + m + 1, from.AddMinutes(m), phase, metrics) with { Labels = labels });
    }

    // Every signal produced so far stored and projected, and the Promoter past each of the jobs' events.
    async Task ProcessedAsync(params string[] jobs)
    {
        foreach (var job in jobs)
        {
            await Eventually.Get(() => _store.LastSeqAsync(job), s => s == _seq[job], Timeout, $"{job}'s signals to be projected");
            await Eventually.True(() => _store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the Promoter to process {job}");
        }
    }

    async Task<List<T>> RecordedAsync<T>(string stream, string type) where T : class
    {
        await using var command = pipeline.Database.CreateCommand("select data from es.events where stream_id = $1 and type = $2 order by global_position");
        command.Parameters.AddWithValue(stream);
        command.Parameters.AddWithValue(type);
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<T>();
        while (await reader.ReadAsync())
        {
            events.Add(ContractsJson.Deserialize<T>(reader.GetString(0)));
        }
        return events;
    }

    async Task<List<Move>> LiveMovesAsync()
    {
        var moves = new List<Move>();
        foreach (var job in _seq.Keys)
        {
            moves.AddRange((await RecordedAsync<PhaseChanged>(job, PhaseChanged.EventType)).Select(c => new Move(c.JobId, c.From, c.To, c.Direction, c.DecidedAt, c.Reason)));
        }
        return [.. moves.Order()];
    }

    async Task<List<Hold>> LiveHoldsAsync()
    {
        var holds = new List<Hold>();
        foreach (var job in _seq.Keys)
        {
            holds.AddRange((await RecordedAsync<PromotionDeferred>(job, PromotionDeferred.EventType)).Select(d => new Hold(d.JobId, d.To, d.Cause, d.DecidedAt, d.Reason)));
        }
        return [.. holds.Order()];
    }

    static List<Move> Moves(Backtest backtest, string side) =>
        [.. backtest.AllDecisions().Where(d => d.Side == side).Select(d => new Move(d.Decision.JobId, d.Decision.From, d.Decision.To, d.Decision.Direction,
            d.Decision.DecidedAt, d.Decision.Reason)).Order()];

    static List<Hold> Holds(Backtest backtest, string side) =>
        [.. backtest.AllDeferrals().Where(d => d.Side == side).Select(d => new Hold(d.Deferral.JobId, d.Deferral.To, d.Deferral.Cause, d.Deferral.DecidedAt,
            d.Deferral.Reason)).Order()];

    /// <summary>The library the <c>backtest</c> command runs, over this test's jobs, from the history archive as far as it reaches.</summary>
    async Task<(Backtest Backtest, BacktestReport Report)> BacktestAsync(string candidate, bool withoutPauses = false)
    {
        var backtest = new Backtest(PolicyDocument.Parse(candidate, 0).Policy!, (id, _) => id.StartsWith("gbt-", StringComparison.Ordinal), NullLogger.Instance,
            withoutPauses);
        await BacktestReplay.ReplayAsync(pipeline.Database, backtest, null, useArchive: true, NullLogger.Instance, CancellationToken.None);
        return (backtest, backtest.Report(perJob: true));
    }

    Task<(int Exit, string Out, string Error)> RunToolAsync(params string[] args) =>
        StreamingTool.RunAsync(pipeline.ConnectionString, new Dictionary<string, string>(), args);

    /// <summary>A move as both the log and a backtest state it: job, from, to, direction, event time and reason.</summary>
    sealed record Move(string JobId, string From, string To, string Direction, DateTimeOffset DecidedAt, string Reason) : IComparable<Move>
    {
        public int CompareTo(Move? other) => other is null ? 1 : (JobId, DecidedAt).CompareTo((other.JobId, other.DecidedAt));
    }

    /// <summary>A promotion held back: job, the phase it waits to enter, cause, event time and reason.</summary>
    sealed record Hold(string JobId, string To, string Cause, DateTimeOffset DecidedAt, string Reason) : IComparable<Hold>
    {
        public int CompareTo(Hold? other) => other is null ? 1 : (JobId, DecidedAt).CompareTo((other.JobId, other.DecidedAt));
    }
}
