using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Npgsql;
using Streaming.EventStore;
using Streaming.Hosting.Supervision;
using Streaming.Tests.Infrastructure;
using Streaming.Tests.Ownership;

namespace Streaming.Tests.Supervision;

/// <summary>
/// <c>./run.sh</c> itself, from a data folder under a private (mode 700) parent as a clone in root's home would be:
/// each service a supervised process, one run per data folder, set-up failures that stop it with a message.
/// </summary>
public sealed class RunScriptTests
{
    static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(2);
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    // Each ./run.sh start initialises PostgreSQL, boots RabbitMQ and starts six .NET processes, the test suite's most
    // expensive set-up: one data folder's two runs cover the restarts, the refused second run and both ways to stop.
    [Fact]
    public async Task Runs_each_service_as_a_process_that_restarts_alone_refuses_a_second_run_on_its_data_and_stops_in_order_on_a_SIGTERM_to_it_or_to_its_process_group_during_a_database_outage_leaving_no_process_behind()
    {
        using var folder = new TemporaryFolder();
        var environment = Environment(folder, Streaming.Chaos.Environment.FreePort.Next());
        try
        {
            // Given ./run.sh on a data folder under a private parent, leading a process group of its own as a process manager starts it
            await using (var first = RunningProcess.Start("/usr/bin/setsid", [RunSh, "--no-fleet", "--http-port", "0"], environment))
            {
                var endpoints = await LiveEndpointsAsync(folder, first, "api");
                Assert.Equal(first.Pid, GroupOf(first.Pid));
                Assert.StartsWith("http://127.0.0.1:", endpoints["httpUrl"]!.GetValue<string>(), StringComparison.Ordinal);
                Assert.StartsWith("amqp://", endpoints["rabbitMqUrl"]!.GetValue<string>(), StringComparison.Ordinal);
                var text = await File.ReadAllTextAsync(folder.PathOf("data/endpoints.json"));
                var bootstrap = endpoints["kafkaBootstrapServers"]!.GetValue<string>();
                var connectionString = endpoints["postgresConnectionString"]!.GetValue<string>();
                var ingest = endpoints["processes"]!["ingest"]!.GetValue<int>();
                // And each service runs with run.sh's runtime settings: tier-up after 2,000 calls, pool threads that sleep without spinning
                var settings = (await File.ReadAllTextAsync($"/proc/{ingest}/environ")).Split('\0');
                Assert.Contains("DOTNET_TC_CallCountThreshold=2000", settings);
                Assert.Contains("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0", settings);

                // When a second ./run.sh starts on the same data folder
                await using (var second = RunningProcess.Start(RunSh, ["--no-fleet", "--http-port", "0"], environment))
                {
                    // Then it refuses with a message and a non-zero exit, and the first one's endpoints and PostgreSQL are untouched
                    Assert.True(await second.WaitForExitAsync(Timeout) == 1, second.Output);
                    Assert.Contains("another ./run.sh is using", second.Output, StringComparison.Ordinal);
                }
                Assert.Equal(text, await File.ReadAllTextAsync(folder.PathOf("data/endpoints.json")));
                Assert.False(first.HasExited, first.Output);
                Assert.True(await AnswersAsync(connectionString));

                // When Ingest is killed, it alone restarts, and the broker (and its topics) lives on
                PosixSignals.Send(ingest, PosixSignals.Kill);
                await Eventually.True(
                    () => Task.FromResult(EndpointsFile.ReadLive(folder.PathOf("data/endpoints.json"))?["processes"]?["ingest"]?.GetValue<int>() is { } pid && pid != ingest),
                    Timeout, "Ingest to be restarted");
                Assert.Equal(bootstrap, EndpointsFile.ReadLive(folder.PathOf("data/endpoints.json"))!["kafkaBootstrapServers"]!.GetValue<string>());

                // And SIGTERM to ./run.sh alone (kill PID) stops everything: exit 0, every service that had started stopped
                // when asked (the new Ingest may still be starting, and a process ends by the signal before its host
                // handles it), the endpoints file removed, PostgreSQL stopped
                var beforeStop = first.Output.Length;
                first.Signal(PosixSignals.Terminate);
                Assert.True(await first.WaitForExitAsync(Timeout) == 0, first.Output);
                var stopping = first.Output[beforeStop..];
                Assert.DoesNotContain("did not stop within", stopping, StringComparison.Ordinal);
                foreach (var service in new[] { "projector", "promoter", "api", "rabbitmq" })
                {
                    Assert.Contains($"{service} stopped (exited with code 0)", stopping, StringComparison.Ordinal);
                }
                Assert.False(File.Exists(folder.PathOf("data/endpoints.json")));
                Assert.False(await AnswersAsync(connectionString));
                await NothingOfTheRunLivesOnAsync(folder, 1);
            }

            // Given a second run on the same data folder, which finds the first one's RabbitMQ settings (and their epmd port)
            await using var again = RunningProcess.Start("/usr/bin/setsid", [RunSh, "--no-fleet", "--http-port", "0"], environment);
            var live = await LiveEndpointsAsync(folder, again, "api");
            Assert.Equal(again.Pid, GroupOf(again.Pid));

            // And PostgreSQL stopped under the running services, which the API's readiness reports
            await using (var stop = RunningProcess.Start(Path.Combine(RepositoryRoot.Path, "scripts/postgres.sh"), ["stop", folder.PathOf("data/postgres")]))
            {
                Assert.True(await stop.WaitForExitAsync(Timeout) == 0, stop.Output);
            }
            using var http = new HttpClient { BaseAddress = new Uri(live["httpUrl"]!.GetValue<string>()) };
            await Eventually.True(
                async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.ServiceUnavailable,
                Timeout, "the API to report PostgreSQL unreachable");

            // When the whole group gets SIGTERM (kill -TERM -- -PGID), then every service stops when asked, the run exits 0,
            // and nothing it started (the Erlang VM, epmd, PostgreSQL) lives on
            await StopsItsGroupInOrderAsync(again, folder, 2, "ingest", "rabbitmq");
        }
        finally
        {
            await CleanUpAsync(folder);
        }
    }

    [Fact]
    public async Task Runs_N_processes_of_each_service_with_instances_N_whose_projectors_and_promoters_own_every_partition_between_them_as_static_members_named_by_their_index()
    {
        using var folder = new TemporaryFolder();
        var environment = Environment(folder, Streaming.Chaos.Environment.FreePort.Next());
        // For the ownership lines; an override by namespace would not pass the supervisor's `sh -c` (dash drops names with dots).
        environment["Serilog__MinimumLevel__Default"] = "Information";
        try
        {
            // Given ./run.sh --instances 2 on a new data folder
            await using var run = RunningProcess.Start("/usr/bin/setsid", [RunSh, "--instances", "2", "--no-fleet", "--http-port", "0"], environment);
            var endpoints = await LiveEndpointsAsync(folder, run, "api");

            // Then Ingest, the Projector and the Promoter each run as two processes, and the rest as one
            var processes = endpoints["processes"]!.AsObject();
            foreach (var role in SharedRoles)
            {
                Assert.True(processes.ContainsKey($"{role}-1") && processes.ContainsKey($"{role}-2") && !processes.ContainsKey(role), processes.ToJsonString());
            }
            Assert.True(processes.ContainsKey("broker") && processes.ContainsKey("api"), processes.ToJsonString());

            // And each role's two processes join its group as static members named by the host and their index, and
            // own every partition between them, each some
            foreach (var role in new[] { "projector", "promoter" })
            {
                await Eventually.True(
                    () => Task.FromResult(run.HasExited || SplitEveryPartition(Followed(run, $"{role}-1"), Followed(run, $"{role}-2"))),
                    StartTimeout, $"the two {role}s to share the {RunPartitions} partitions");
                Assert.False(run.HasExited, run.Output);
                foreach (var instance in new[] { 1, 2 })
                {
                    Assert.Contains($"joins group streaming-{role} as {System.Environment.MachineName}-{role}-{instance} ", LinesOf(run, $"{role}-{instance}"), StringComparison.Ordinal);
                }
            }

            // When a job in every partition signals
            var jobs = Enumerable.Range(0, RunPartitions).Select(JobInRunPartition).ToList();
            using (var producer = SignalFactory.Producer(endpoints["kafkaBootstrapServers"]!.GetValue<string>()))
            {
                producer.Produce(jobs.SelectMany(job => SignalFactory.Minutes(job, 0, 3, "shadow", SignalFactory.Good)));
            }

            // Then the Projector and the Promoter owning its partition project and decide on it
            await using var store = NpgsqlDataSource.Create(endpoints["postgresConnectionString"]!.GetValue<string>());
            var probe = new StoreProbe(store);
            foreach (var job in jobs)
            {
                await Eventually.True(async () => await probe.LastSeqAsync(job) == 3, Timeout, $"a Projector to project {job}");
                await Eventually.True(() => probe.HasProcessedAsync(Streaming.Promoter.Decisions.DecisionFold.CheckpointName, job), Timeout, $"a Promoter to process {job}");
            }

            // And the broker, a process of its own, deletes what Ingest has stored but the last 1,000 of a partition
            await StoredSignalsLeaveTheBrokerAsync(endpoints, run);

            // And a SIGTERM to its group stops every copy when asked and leaves nothing behind
            await StopsItsGroupInOrderAsync(run, folder, 1, [.. SharedRoles.SelectMany(role => new[] { $"{role}-1", $"{role}-2" }), "rabbitmq"]);
        }
        finally
        {
            await CleanUpAsync(folder);
        }
    }

    [Fact]
    public async Task Runs_a_projector_and_a_promoter_per_shard_with_shards_2_each_following_its_shards_partitions_and_relays_shard_0s_policies_to_shard_1()
    {
        using var folder = new TemporaryFolder();
        var environment = Environment(folder, Streaming.Chaos.Environment.FreePort.Next());
        environment["Serilog__MinimumLevel__Default"] = "Information";
        try
        {
            // Given ./run.sh --shards 2 on a new data folder
            await using var run = RunningProcess.Start("/usr/bin/setsid", [RunSh, "--shards", "2", "--no-fleet", "--http-port", "0"], environment);
            var endpoints = await LiveEndpointsAsync(folder, run, "api");

            // Then one Ingest and one API run, and a Projector and a Promoter per shard, each following its shard's
            // partitions (even, odd) and the control partition
            var processes = endpoints["processes"]!.AsObject();
            string[] sharded = ["projector-shard0", "projector-shard1", "promoter-shard0", "promoter-shard1"];
            foreach (var name in sharded.Append("ingest").Append("api"))
            {
                Assert.True(processes.ContainsKey(name), processes.ToJsonString());
            }
            foreach (var name in sharded)
            {
                var shard = name[^1] - '0';
                var expected = Enumerable.Range(0, RunPartitions).Where(p => p == 0 || p % 2 == shard).ToList();
                await Eventually.True(() => Task.FromResult(run.HasExited || Followed(run, name).SetEquals(expected)), StartTimeout, $"{name} to follow {string.Join(",", expected)}");
                Assert.False(run.HasExited, run.Output);
            }

            // And shard 1's cluster holds the policies the Promoters published to shard 0, with their ids
            await using var home = NpgsqlDataSource.Create(endpoints["postgresConnectionString"]!.GetValue<string>());
            var other = endpoints["postgresShard1ConnectionString"]!.GetValue<string>();
            await using (var shard1 = NpgsqlDataSource.Create(other))
            {
                await Eventually.True(
                    async () => await PolicyEventsAsync(home) is { Count: > 0 } published && published.SequenceEqual(await PolicyEventsAsync(shard1)),
                    Timeout, "shard 0's policies relayed to shard 1");
            }

            // And a SIGTERM to its group stops every process and both clusters
            await StopsItsGroupInOrderAsync(run, folder, 1, [.. sharded, "ingest", "rabbitmq"]);
            Assert.False(await AnswersAsync(other));
        }
        finally
        {
            await CleanUpAsync(folder);
        }
    }

    static async Task<IReadOnlyList<(string Stream, long Version, Guid Id)>> PolicyEventsAsync(NpgsqlDataSource store)
    {
        await using var command = store.CreateCommand("select stream_id, version, event_id from es.events where starts_with(stream_id, 'policy:') order by global_position");
        await using var reader = await command.ExecuteReaderAsync();
        var events = new List<(string, long, Guid)>();
        while (await reader.ReadAsync())
        {
            events.Add((reader.GetString(0), reader.GetInt64(1), reader.GetGuid(2)));
        }
        return events;
    }

    [Fact]
    public async Task A_SIGTERM_to_its_process_group_while_RabbitMQ_boots_stops_the_run_with_exit_0_and_leaves_no_Erlang_VM_or_epmd_behind()
    {
        using var folder = new TemporaryFolder();
        try
        {
            // Given ./run.sh leading a process group of its own, its broker up and RabbitMQ's Erlang VM started but not yet ready
            await using var run = RunningProcess.Start("/usr/bin/setsid", [RunSh, "--no-fleet", "--http-port", "0"], Environment(folder, Streaming.Chaos.Environment.FreePort.Next()));
            var data = folder.PathOf("data");
            await Eventually.True(
                () => Task.FromResult(run.HasExited || run.Output.Contains("started rabbitmq (pid ", StringComparison.Ordinal) && ProcessesNaming(data).Any(p => p.Contains("beam.smp", StringComparison.Ordinal))),
                StartTimeout, "RabbitMQ's Erlang VM to start");
            Assert.False(run.HasExited, run.Output);

            // When the whole group gets SIGTERM, then the run exits 0, the supervisor says each process stopped when asked,
            // and nothing of the run lives on
            await StopsItsGroupInOrderAsync(run, folder, 1, "broker", "rabbitmq");
            Assert.False(File.Exists(folder.PathOf("data/endpoints.json")));
        }
        finally
        {
            await CleanUpAsync(folder);
        }
    }

    [Fact]
    public async Task The_all_in_one_mode_publishes_its_endpoints_and_removes_them_when_stopped()
    {
        using var folder = new TemporaryFolder();
        try
        {
            await using var run = RunningProcess.Start(RunSh, ["--all-in-one", "--no-fleet", "--http-port", "0"], Environment(folder, Streaming.Chaos.Environment.FreePort.Next()));
            var endpoints = await LiveEndpointsAsync(folder, run, null);
            // Written by the all-in-one process run.sh started
            Assert.Equal(run.Pid, ParentOf(endpoints["pid"]!.GetValue<int>()));
            Assert.Null(endpoints["processes"]);
            // Its broker deletes what its Ingest has stored but the last 1,000 of a partition
            await StoredSignalsLeaveTheBrokerAsync(endpoints, run);
            run.Signal(PosixSignals.Terminate);
            Assert.True(await run.WaitForExitAsync(Timeout) == 0, run.Output);
            Assert.False(File.Exists(folder.PathOf("data/endpoints.json")));
        }
        finally
        {
            await CleanUpAsync(folder);
        }
    }

    [Fact]
    public async Task Stops_with_a_message_and_a_non_zero_exit_when_PostgreSQL_cannot_start()
    {
        // Given the port PostgreSQL should listen on is taken
        using var folder = new TemporaryFolder();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            // Then ./run.sh says so and exits non-zero, starting nothing
            await using var run = RunningProcess.Start(RunSh, ["--no-fleet", "--http-port", "0"], Environment(folder, ((IPEndPoint)taken.LocalEndpoint).Port));
            Assert.True(await run.WaitForExitAsync(Timeout) == 1, run.Output);
            Assert.Contains("could not listen on port", run.Output, StringComparison.Ordinal);
            Assert.Contains("run.sh: PostgreSQL did not start", run.Output, StringComparison.Ordinal);
            Assert.False(File.Exists(folder.PathOf("data/endpoints.json")));
        }
        finally
        {
            await CleanUpAsync(folder);
        }
    }

    static string RunSh => Path.Combine(RepositoryRoot.Path, "run.sh");

    // 1,100 signals of one job, stored: the embedded broker deletes all but the last 1,000 of its partition, so the
    // partition's log no longer starts at 0 (StoredSignalsTrim). Their checksums never match, so the job is never moved:
    // no decisions for the stop that follows to wait on.
    static async Task StoredSignalsLeaveTheBrokerAsync(JsonObject endpoints, RunningProcess run)
    {
        var bootstrap = endpoints["kafkaBootstrapServers"]!.GetValue<string>();
        var job = JobInRunPartition(0);
        using (var producer = SignalFactory.Producer(bootstrap))
        {
            producer.Produce(SignalFactory.Minutes(job, 0, 1_100, "shadow", SignalFactory.BadChecksums));
        }
        await using var store = NpgsqlDataSource.Create(endpoints["postgresConnectionString"]!.GetValue<string>());
        var probe = new StoreProbe(store);
        await Eventually.True(async () => run.HasExited || await probe.LastSeqAsync(job) == 1_100, Timeout, $"the 1,100 signals of {job} to be stored and projected");
        Assert.False(run.HasExited, run.Output);
        using var consumer = new Confluent.Kafka.ConsumerBuilder<string, string>(new Confluent.Kafka.ConsumerConfig { BootstrapServers = bootstrap, GroupId = "run-script-watermarks" }).Build();
        long Deleted() => Enumerable.Range(0, RunPartitions)
            .Sum(p => consumer.QueryWatermarkOffsets(new Confluent.Kafka.TopicPartition(Streaming.Contracts.Topics.Signals, p), TimeSpan.FromSeconds(5)).Low.Value);
        await Eventually.True(() => Task.FromResult(Deleted() >= 100), Timeout, "the broker to delete the stored signals but the last 1,000 of the partition");
    }

    // The roles ./run.sh --instances N runs as N processes, and the partitions of job-signals and of the log it makes.
    static readonly string[] SharedRoles = ["ingest", "projector", "promoter"];
    const int RunPartitions = 12;
    static readonly LogPartitioner RunPartitioner = new(RunPartitions, Streaming.Contracts.History.ControlStreamPrefixes.All);

    static string JobInRunPartition(int partition)
    {
        while (true)
        {
            var job = Streaming.Tests.EventStore.SampleEvents.NewStreamId("job");
            if (RunPartitioner.PartitionOf(job) == partition)
            {
                return job;
            }
        }
    }

    // What the supervisor printed for one process: its lines behind its name.
    static string LinesOf(RunningProcess run, string process) =>
        string.Join('\n', run.Output.Split('\n').Where(line => line.StartsWith(process + " ", StringComparison.Ordinal)));

    // The partitions a Projector's or Promoter's tail follows now: its last "the tail follows partitions" line.
    static IReadOnlySet<int> Followed(RunningProcess run, string process) =>
        FollowedShare.In(LinesOf(run, process));

    static bool SplitEveryPartition(IReadOnlySet<int> first, IReadOnlySet<int> second) =>
        first.Count > 0 && second.Count > 0 && first.Concat(second).Order().SequenceEqual(Enumerable.Range(0, RunPartitions));

    // A SIGTERM to the run's whole process group: exit 0, each named process stopped with exit code 0, none killed,
    // restarted or waited on to the stop timeout, and no process of the run left.
    static async Task StopsItsGroupInOrderAsync(RunningProcess run, TemporaryFolder folder, int number, params string[] stoppedWithZero)
    {
        var before = run.Output.Length;
        PosixSignals.SendToGroup(run.Pid, PosixSignals.Terminate);
        Assert.True(await run.WaitForExitAsync(Timeout) == 0, run.Output);
        var stopping = run.Output[before..];
        foreach (var process in stoppedWithZero)
        {
            Assert.Contains($"{process} stopped (exited with code 0)", stopping, StringComparison.Ordinal);
        }
        Assert.DoesNotContain("killed", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("restarting", stopping, StringComparison.Ordinal);
        Assert.DoesNotContain("did not stop within", run.Output, StringComparison.Ordinal);
        await NothingOfTheRunLivesOnAsync(folder, number);
    }

    static Task NothingOfTheRunLivesOnAsync(TemporaryFolder folder, int run)
    {
        var data = folder.PathOf("data");
        // The last value names what was left.
        return Eventually.Get(() => Task.FromResult(string.Join("; ", ProcessesNaming(data))), left => left.Length == 0, TimeSpan.FromSeconds(10), $"no process naming {data} (run {run})");
    }

    static Dictionary<string, string> Environment(TemporaryFolder folder, int port) => new()
    {
        ["STREAMING_DATA"] = folder.PathOf("data"),
        ["STREAMING_PG_PORT"] = port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["STREAMING_SKIP_SETUP"] = "1",
        ["Serilog__MinimumLevel__Default"] = "Warning",
    };

    // The endpoints file of a live run, once it lists Kafka (and, if named, that process).
    static async Task<JsonObject> LiveEndpointsAsync(TemporaryFolder folder, RunningProcess run, string? process)
    {
        var path = folder.PathOf("data/endpoints.json");
        await Eventually.True(
            () => Task.FromResult(run.HasExited || EndpointsFile.ReadLive(path) is { } e && e["kafkaBootstrapServers"] is not null && (process is null || e["processes"]?[process] is not null)),
            StartTimeout, "./run.sh to publish its endpoints");
        return EndpointsFile.ReadLive(path) ?? throw new InvalidOperationException($"./run.sh exited ({run.ExitCode}):\n{run.Output}");
    }

    static int ParentOf(int pid) => StatusField(pid, 1);

    static int GroupOf(int pid) => StatusField(pid, 2);

    // A numeric field of /proc/PID/stat, counted from the one after the command name (0: the state).
    static int StatusField(int pid, int index) =>
        int.Parse(File.ReadAllText($"/proc/{pid}/stat").Split(')')[^1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[index], System.Globalization.CultureInfo.InvariantCulture);

    // Live processes whose command line or environment names the folder (a zombie has neither), each as "pid command".
    static List<string> ProcessesNaming(string folder)
    {
        var found = new List<string>();
        foreach (var entry in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(entry), out var pid) || pid == System.Environment.ProcessId)
            {
                continue;
            }
            try
            {
                var command = File.ReadAllText(Path.Combine(entry, "cmdline")).Replace('\0', ' ');
                if (command.Contains(folder, StringComparison.Ordinal) || File.ReadAllText(Path.Combine(entry, "environ")).Contains(folder, StringComparison.Ordinal))
                {
                    found.Add($"{pid} {command}");
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
        return found;
    }

    static async Task<bool> AnswersAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = 5 }.ConnectionString);
            await connection.OpenAsync();
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }


    // Whatever a failed test left running: the RabbitMQ node, PostgreSQL (whose data may live outside the folder).
    static async Task CleanUpAsync(TemporaryFolder folder)
    {
        if (File.Exists(folder.PathOf("data/rabbitmq/node.env")))
        {
            await using var rabbitmq = RunningProcess.Start(Path.Combine(RepositoryRoot.Path, "scripts/rabbitmq.sh"), ["stop", folder.PathOf("data/rabbitmq")]);
            await rabbitmq.WaitForExitAsync(Timeout);
        }
        foreach (var cluster in new[] { "data/postgres", "data/postgres-shard1" }.Where(c => c == "data/postgres" || Directory.Exists(folder.PathOf(c))))
        {
            await using var postgres = RunningProcess.Start(Path.Combine(RepositoryRoot.Path, "scripts/postgres.sh"), ["remove", folder.PathOf(cluster)]);
            await postgres.WaitForExitAsync(Timeout);
        }
    }
}
