using Streaming.Contracts.History;
using Streaming.Lifecycle;
using Streaming.Lifecycle.Admissions;
using Xunit;

namespace Streaming.Tests.Admissions;

/// <summary>The owner's fold of the admission streams (<see cref="AdmissionLedger"/>): caps, order, time, and the same grants on every fold.</summary>
public sealed class AdmissionLedgerTests
{
    static readonly DateTimeOffset Start = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    static Func<string, string, WaveRule?> Rule(int? maxInFlight, int? maxPerHour = null) => (_, _) => new WaveRule(maxInFlight, maxPerHour);

    static AdmissionEntry Request(string job, double minute, int priority = 0, int phaseChanges = 0) =>
        new(EventIds.ForAdmissionRequest(job, (long)(minute * 100) + phaseChanges), job, "fleet", "a", "b", priority, Start.AddMinutes(minute), phaseChanges);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Never_grants_more_slots_than_max_in_flight_for_any_interleaving_of_requests_and_releases(int seed)
    {
        // Given a wave of 3 and 40 jobs asking, giving back and asking again in a random order
        var random = new Random(seed);
        var ledger = new AdmissionLedger();
        var rules = Rule(3);
        var open = new Dictionary<string, AdmissionEntry>();
        var granted = new HashSet<string>();
        var phaseChanges = new Dictionary<string, int>();
        for (var step = 0; step < 2_000; step++)
        {
            var job = $"job-{random.Next(40)}";
            var minute = step / 10.0;
            IReadOnlyList<AdmissionEntry> grants;
            if (open.TryGetValue(job, out var entry) && random.Next(3) > 0)
            {
                // When a job gives back its request or slot
                grants = ledger.Release(entry.RequestId, job, Start.AddMinutes(minute), rules);
                open.Remove(job);
                granted.Remove(job);
                phaseChanges[job] = phaseChanges.GetValueOrDefault(job) + 1;
            }
            else
            {
                var request = Request(job, minute, random.Next(3), phaseChanges.GetValueOrDefault(job));
                grants = ledger.Request(request, rules);
                open.TryAdd(job, ledger.Of(job)!);
            }
            foreach (var grant in grants)
            {
                Assert.True(granted.Add(grant.JobId), $"{grant.JobId} was granted a second slot");
                open[grant.JobId] = grant;
            }
            // Then at no step are more than 3 slots held
            Assert.InRange(granted.Count, 0, 3);
            Assert.Equal(granted.Count, ledger.Slots("fleet", "b").Granted.Count);
        }
    }

    [Fact]
    public void Folding_the_same_requests_and_releases_again_grants_the_same_slots_with_the_same_ids()
    {
        var events = new List<(bool Release, AdmissionEntry Entry)>();
        var random = new Random(7);
        for (var i = 0; i < 300; i++)
        {
            var job = $"job-{random.Next(25)}";
            var existing = events.LastOrDefault(e => e.Entry.JobId == job);
            events.Add(existing.Entry is not null && !existing.Release && random.Next(2) == 0 ? (true, existing.Entry) : (false, Request(job, i, random.Next(2), i)));
        }

        static List<Guid> Fold(IEnumerable<(bool Release, AdmissionEntry Entry)> log)
        {
            var ledger = new AdmissionLedger();
            var grants = new List<Guid>();
            foreach (var (release, entry) in log)
            {
                var granted = release ? ledger.Release(entry.RequestId, entry.JobId, entry.RequestedAt.AddMinutes(1), Rule(4, 30)) : ledger.Request(entry, Rule(4, 30));
                grants.AddRange(granted.Select(g => EventIds.ForAdmissionGrant(g.RequestId)));
            }
            return grants;
        }

        var first = Fold(events);
        Assert.NotEmpty(first);
        Assert.Equal(first, Fold(events));
    }

    [Fact]
    public void A_freed_slot_goes_to_the_highest_priority_then_the_longest_waiting_then_the_lowest_job_id()
    {
        // Given a wave of one, held by job-0, and four jobs queued behind it
        var ledger = new AdmissionLedger();
        var rules = Rule(1);
        var holder = Request("job-0", 0);
        Assert.Single(ledger.Request(holder, rules));
        Assert.Empty(ledger.Request(Request("job-late", 2), rules));
        Assert.Empty(ledger.Request(Request("job-b", 1), rules));
        Assert.Empty(ledger.Request(Request("job-a", 1), rules));
        Assert.Empty(ledger.Request(Request("job-urgent", 3, priority: 5), rules));

        // When the slot is released, then each grantee's
        var order = new List<string>();
        var current = holder;
        for (var i = 0; i < 4; i++)
        {
            var next = Assert.Single(ledger.Release(current.RequestId, current.JobId, Start.AddMinutes(10 + i), rules));
            order.Add(next.JobId);
            Assert.Equal(Start.AddMinutes(10 + i), next.GrantedAt);
            current = next;
        }

        // Then the priority label first, then the longest wait, then job id
        Assert.Equal(["job-urgent", "job-a", "job-b", "job-late"], order);
    }

    [Fact]
    public void At_most_max_per_hour_slots_are_granted_in_an_hour_of_event_time()
    {
        // Given at most two grants an hour and no cap in flight
        var ledger = new AdmissionLedger();
        var rules = Rule(null, 2);

        // When five jobs ask at minutes 0 to 4
        var early = Enumerable.Range(0, 5).SelectMany(i => ledger.Request(Request($"job-{i}", i), rules)).ToList();

        // Then two are let in; the others wait until an hour after the first grant
        Assert.Equal(["job-0", "job-1"], early.Select(g => g.JobId));
        Assert.Equal(Start.AddMinutes(60), ledger.FreesAt("fleet", "b", new WaveRule(null, 2)));
        Assert.Empty(ledger.Request(Request("job-2", 59), rules));
        var later = ledger.Request(Request("job-2", 60.5), rules);
        Assert.Equal(["job-2"], later.Select(g => g.JobId));
        Assert.Equal(["job-3"], ledger.Request(Request("job-3", 61), rules).Select(g => g.JobId));
        Assert.Empty(ledger.Request(Request("job-4", 62), rules));
    }

    [Fact]
    public void A_release_of_a_request_no_longer_open_or_a_copy_of_a_request_changes_nothing()
    {
        var ledger = new AdmissionLedger();
        var rules = Rule(1);
        var first = Request("job-1", 0);
        Assert.Single(ledger.Request(first, rules));
        Assert.Empty(ledger.Request(first, rules));
        Assert.Empty(ledger.Request(Request("job-2", 1), rules));

        // A request of an older wait, or a release of another request id, leaves the slot where it is
        Assert.Empty(ledger.Release(Guid.NewGuid(), "job-1", Start.AddMinutes(2), rules));
        Assert.True(ledger.Of("job-1")!.Granted);
        Assert.False(ledger.Of("job-2")!.Granted);
    }

    [Fact]
    public void A_recorded_grant_the_fold_had_not_made_counts_as_held_until_given_back()
    {
        // Given a wave of one, held by job-1, and job-2 queued
        var ledger = new AdmissionLedger();
        var rules = Rule(1);
        var holder = Assert.Single(ledger.Request(Request("job-1", 0), rules));
        var waiting = Request("job-2", 1);
        Assert.Empty(ledger.Request(waiting, rules));

        // When an owner whose state was ahead of this fold's recorded a grant for job-2
        Assert.True(ledger.Confirm(waiting.RequestId, "job-2", Start.AddMinutes(2)));

        // Then job-2 may use it, it counts as held, and a third job waits until both slots are given back
        Assert.True(ledger.Of("job-2")!.Recorded);
        Assert.Equal(2, ledger.Slots("fleet", "b").Granted.Count);
        Assert.Empty(ledger.Request(Request("job-3", 3), rules));
        Assert.Empty(ledger.Release(holder.RequestId, "job-1", Start.AddMinutes(4), rules));
        Assert.Equal("job-3", Assert.Single(ledger.Release(waiting.RequestId, "job-2", Start.AddMinutes(5), rules)).JobId);
    }

    [Fact]
    public void The_saved_ledger_grants_as_the_one_that_was_saved()
    {
        var ledger = new AdmissionLedger();
        var rules = Rule(2, 3);
        var holder = Request("job-1", 0, phaseChanges: 1);
        ledger.Request(holder, rules);
        ledger.Request(Request("job-2", 1, priority: 1), rules);
        ledger.Request(Request("job-3", 2), rules);
        ledger.Request(Request("job-4", 3, priority: 2), rules);

        var restored = AdmissionLedgerSnapshot.Read(AdmissionLedgerSnapshot.Write(ledger));

        Assert.Equal(ledger.Of("job-1"), restored.Of("job-1"));
        Assert.Equal(ledger.Of("job-4"), restored.Of("job-4"));
        var live = ledger.Release(holder.RequestId, "job-1", Start.AddMinutes(5), rules);
        var again = restored.Release(holder.RequestId, "job-1", Start.AddMinutes(5), rules);
        Assert.Equal(live, again);
        Assert.Equal("job-4", Assert.Single(again).JobId);
    }
}
