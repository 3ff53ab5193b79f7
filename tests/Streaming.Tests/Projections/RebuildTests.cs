using System.Diagnostics;
using Npgsql;
using Streaming.Contracts;
using Streaming.Contracts.History;
using Streaming.Promoter.Decisions;
using Streaming.Promoter.Publishing;
using Streaming.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Streaming.Tests.Projections;

public sealed class RebuildTests(Pipeline pipeline, ITestOutputHelper output) : IClassFixture<Pipeline>
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task A_rebuild_killed_mid_batch_resumes_and_activates_a_generation_equal_to_the_live_one_without_republishing()
    {
        // Given 30 jobs with an hour of history, fully projected, decided and published by the live system
        var jobs = Enumerable.Range(1, 30).Select(i => $"rebuild-{i}").ToList();
        using var producer = SignalFactory.Producer(pipeline.Kafka.BootstrapServers);
        producer.Produce(Enumerable.Range(0, 60).SelectMany(m => jobs.Select(j => SignalFactory.Signal(j, m + 1, SignalFactory.Start.AddMinutes(m), "shadow", SignalFactory.Good))));
        var store = new StoreProbe(pipeline.Database);
        foreach (var job in jobs)
        {
            await Eventually.Get(() => store.LastSeqAsync(job), s => s == 60, Timeout, $"the projection of {job}");
            // The promoter's checkpoint passes a job's signals only once its decisions are appended; the relay's then passes those.
            await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, job), Timeout, $"the promoter to pass {job}");
            await Eventually.True(() => store.HasProcessedAsync(PhaseChangeRelay.CheckpointName, job), Timeout, $"the relay to pass {job}");
        }
        var decisions = await store.CountAllEventsAsync(PhaseChanged.EventType);
        Assert.Equal(jobs.Count, decisions);
        using var phaseChanges = new TopicReader(pipeline.Kafka.BootstrapServers, Topics.PhaseChanges, 4);
        var published = phaseChanges.ReadUntil(m => m.Count >= decisions, Timeout, "the published decisions").Count;

        // When a rebuild in small batches is killed (SIGKILL) once it has committed some batches, then run again; the
        // active generation's row is locked meanwhile, so the first rebuild cannot activate its generation however fast it replays
        await using var lockHolder = await pipeline.Database.OpenConnectionAsync();
        await using (var activation = await HoldActivationAsync(lockHolder))
        using (var first = StartRebuild())
        {
            await Eventually.True(() => RebuildCheckpointExistsAsync(), Timeout, "the rebuild to commit a batch");
            first.Kill(entireProcessTree: true);
            await first.WaitForExitAsync();
        }
        Assert.Equal(1, await ActiveGenerationAsync());
        using (var second = StartRebuild())
        {
            var output = second.StandardOutput.ReadToEndAsync();
            var errors = second.StandardError.ReadToEndAsync();
            await second.WaitForExitAsync().WaitAsync(Timeout);
            Assert.True(second.ExitCode == 0, await output + await errors);
            Assert.Contains("resumed", await output, StringComparison.Ordinal);
        }

        // Then generation 2 is active and holds exactly what generation 1 holds
        Assert.Equal(2, await ActiveGenerationAsync());
        Assert.Equal(0L, await store.DifferingJobStatesAsync(1, 2));

        // And the live projector follows it, while nothing was decided or published again
        producer.Produce([SignalFactory.Signal(jobs[0], 61, SignalFactory.Start.AddMinutes(60), "shadow", SignalFactory.Good)]);
        try
        {
            await Eventually.Get(() => store.LastSeqAsync(jobs[0]), s => s == 61, Timeout, "the live projector to write generation 2");
        }
        catch (TimeoutException)
        {
            output.WriteLine(await WhereTheProjectorIsAsync(jobs[0]));
            throw;
        }
        await Eventually.True(() => store.HasProcessedAsync(DecisionFold.CheckpointName, jobs[0]), Timeout, "the promoter");
        Assert.Equal(decisions, await store.CountAllEventsAsync(PhaseChanged.EventType));
        Assert.Equal(published, phaseChanges.Drain(TimeSpan.FromMilliseconds(500)).Count);
    }

    Process StartRebuild()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "streaming.dll");
        var start = new ProcessStartInfo("dotnet", [dll, "rebuild", "--batch", "4"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ConnectionStrings__EventStore"] = pipeline.ConnectionString;
        return Process.Start(start)!;
    }

    static async Task<NpgsqlTransaction> HoldActivationAsync(NpgsqlConnection connection)
    {
        var transaction = await connection.BeginTransactionAsync();
        await using var command = new NpgsqlCommand(
            "select generation from projections.generations where projection = 'job_states' and state = 'active' for update", connection, transaction);
        await command.ExecuteScalarAsync();
        return transaction;
    }

    async Task<bool> RebuildCheckpointExistsAsync()
    {
        await using var command = pipeline.Database.CreateCommand("select exists (select 1 from es.checkpoints where name = 'projector:job-states:g2')");
        return (bool)(await command.ExecuteScalarAsync())!;
    }

    // The generations, the job-state checkpoints, and the job's last signal as stored and in each generation's rows.
    async Task<string> WhereTheProjectorIsAsync(string job)
    {
        await using var command = pipeline.Database.CreateCommand(
            """
            select 'generations: ' || (select string_agg(generation || ' ' || state, ', ' order by generation) from projections.generations where projection = 'job_states')
              || '; checkpoints: ' || coalesce((select string_agg(name || '@' || partition || ':' || commit || '/' || position, ', ' order by name, partition)
                                                 from es.checkpoints where name like 'projector:job-states%'), 'none')
              || '; stored signals: ' || (select count(*) from es.events where stream_id = $1 and type = $2)
              || '; last_seq in g1: ' || coalesce((select last_seq::text from projections.job_states_g1 where job_id = $1), 'none')
              || ', in g2: ' || coalesce((select last_seq::text from projections.job_states_g2 where job_id = $1), 'none')
            """);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = job });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = SignalRecorded.EventType });
        return (string)(await command.ExecuteScalarAsync())!;
    }

    async Task<int> ActiveGenerationAsync()
    {
        await using var command = pipeline.Database.CreateCommand("select generation from projections.generations where projection = 'job_states' and state = 'active'");
        return (int)(await command.ExecuteScalarAsync())!;
    }
}
