using System.Text.Json.Nodes;
using Confluent.Kafka;
using Npgsql;
using Streaming.Contracts.History;
using Streaming.Contracts.Json;
using Streaming.EventStore;
using Streaming.Hosting.Supervision;
using Streaming.Tests.EventStore;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Supervision;

/// <summary>Real service processes exit non-zero when a loop fails (here: fenced by another instance) and zero when asked to stop.</summary>
public sealed class ServiceExitTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Of_two_projectors_on_one_store_the_fenced_one_exits_with_code_1_and_the_other_exits_0_when_stopped()
    {
        // Given two Projector processes on the same store, both started from no checkpoint
        await using var database = new MigratedDatabase();
        await database.InitializeAsync();
        var environment = new Dictionary<string, string> { ["ConnectionStrings__EventStore"] = ConnectionString(database.DataSource) };
        await using var first = RunningProcess.Start("dotnet", [RunningProcess.HostDll("Projector")], environment);
        await using var second = RunningProcess.Start("dotnet", [RunningProcess.HostDll("Projector")], environment);
        await first.WaitForOutputAsync("projector:job-states:g1 resumes after", Timeout);
        await second.WaitForOutputAsync("projector:job-states:g1 resumes after", Timeout);

        // When a signal is stored, both fold it and both try to move the checkpoint from where they found it
        await new SignalLog(database.DataSource).AppendSignalsAsync([Signal("fenced-job", 1)], [], CancellationToken.None);

        // Then the one that loses exits with code 1, saying why
        await Eventually.True(() => Task.FromResult(first.HasExited || second.HasExited), Timeout, "one projector to be fenced");
        var (fenced, survivor) = first.HasExited ? (first, second) : (second, first);
        Assert.Equal(1, await fenced.WaitForExitAsync(Timeout));
        Assert.Contains("exiting with code 1", fenced.Output, StringComparison.Ordinal);

        // And the other, asked to stop, exits 0
        Assert.False(survivor.HasExited, survivor.Output);
        survivor.Signal(PosixSignals.Terminate);
        Assert.Equal(0, await survivor.WaitForExitAsync(Timeout));
    }

    [Fact]
    public async Task The_all_in_one_process_exits_with_code_1_when_its_projector_is_fenced_and_removes_its_endpoints_file()
    {
        // Given the all-in-one process, with one signal projected
        var database = new TestDatabase();
        await database.InitializeAsync();
        using var folder = new TemporaryFolder();
        var endpointsFile = folder.PathOf("endpoints.json");
        await using var process = RunningProcess.Start(
            "dotnet", [RunningProcess.Dll("Embedded"), "--no-fleet", "--endpoints-file", endpointsFile],
            new Dictionary<string, string> { ["ConnectionStrings__EventStore"] = database.ConnectionString });
        try
        {
            await Eventually.True(() => Task.FromResult(EndpointsFile.ReadLive(endpointsFile) is not null || process.HasExited), Timeout, "the endpoints file");
            var bootstrap = EndpointsFile.ReadLive(endpointsFile)?["kafkaBootstrapServers"]?.GetValue<string>() ?? throw new InvalidOperationException(process.Output);
            using var producer = SignalFactory.Producer(bootstrap);
            producer.Produce([SignalFactory.Signal("fenced-job", 1, SignalFactory.Start, "shadow", SignalFactory.Good)]);
            await Eventually.True(() => CheckpointExistsAsync(database.DataSource), Timeout, "the projector's checkpoint");

            // When another instance moves the projector's checkpoint, and the next signal arrives
            await using (var move = database.DataSource.CreateCommand("update es.checkpoints set position = position + 1000000 where name = 'projector:job-states:g1'"))
            {
                await move.ExecuteNonQueryAsync();
            }
            producer.Produce([SignalFactory.Signal("fenced-job", 2, SignalFactory.Start.AddMinutes(1), "shadow", SignalFactory.Good)]);

            // Then the process stops with exit code 1, and takes its endpoints file with it
            Assert.Equal(1, await process.WaitForExitAsync(Timeout));
            Assert.Contains("exiting with code 1", process.Output, StringComparison.Ordinal);
            Assert.False(File.Exists(endpointsFile));
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    static SignalToAppend Signal(string jobId, long seq)
    {
        var at = SignalFactory.Start.AddMinutes(seq);
        var recorded = new SignalRecorded(jobId, seq, at, "shadow", SignalFactory.Good, new Dictionary<string, string>(), null);
        return new SignalToAppend(jobId, seq, EventIds.ForSignal(jobId, seq), SignalRecorded.EventType,
            ContractsJson.Serialize(recorded), ContractsJson.Serialize(new EventMetadata(null, null)), at);
    }

    static async Task<bool> CheckpointExistsAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("select count(*) from es.checkpoints where name = 'projector:job-states:g1'");
        return (long)(await command.ExecuteScalarAsync())! > 0;
    }

    static string ConnectionString(NpgsqlDataSource dataSource) => dataSource.ConnectionString;
}
