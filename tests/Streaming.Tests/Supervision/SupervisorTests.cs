using Streaming.Hosting.Supervision;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Supervision;

/// <summary>The supervisor <c>./run.sh</c> runs its processes under, driving real (shell) processes.</summary>
public sealed class SupervisorTests
{
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Restarts_a_killed_process_and_stops_everything_on_SIGTERM_with_exit_code_zero()
    {
        // Given a supervised process
        await using var supervisor = Supervisor.Start("worker: sh -c 'echo working; exec sleep 600'\n");
        var first = await supervisor.RunningAsync("worker");

        // When it is killed with SIGKILL
        PosixSignals.Send(first, PosixSignals.Kill);

        // Then it runs again under another pid, the exit said why, and its lines carry its name, here and in its log file
        var second = await supervisor.RunningAsync("worker", not: first);
        await supervisor.Process.WaitForOutputAsync($"worker (pid {first}) was killed by signal 9 (SIGKILL); restarting it in", Timeout);
        Assert.Contains("worker     | working", supervisor.Process.Output, StringComparison.Ordinal);
        await Eventually.True(
            async () => (await File.ReadAllTextAsync(supervisor.Folder.PathOf("logs/worker.log"))).Contains($"started, pid {second}", StringComparison.Ordinal),
            Timeout, "the restart in worker.log");

        // And SIGTERM stops the process, removes the endpoints file and exits 0
        supervisor.Process.Signal(PosixSignals.Terminate);
        Assert.Equal(0, await supervisor.Process.WaitForExitAsync(Timeout));
        Assert.False(LiveProcess.IsRunning(second));
        Assert.False(File.Exists(supervisor.EndpointsFile));
    }

    [Fact]
    public async Task A_process_that_a_stop_ends_by_its_SIGTERM_before_it_was_ready_is_reported_stopped_before_it_was_ready_and_the_exit_is_zero()
    {
        // Given a process that has neither announced itself nor a handler for SIGTERM (a service while dotnet loads), and one held back behind it
        await using var supervisor = Supervisor.Start("starting ready: sh -c 'echo loading; exec sleep 600'\nlater: sleep 600\n");
        await supervisor.Process.WaitForOutputAsync("started starting (pid ", Timeout);
        var pid = int.Parse(
            System.Text.RegularExpressions.Regex.Match(supervisor.Process.Output, @"started starting \(pid (\d+)\)").Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);

        // When the supervisor is told to stop
        supervisor.Process.Signal(PosixSignals.Terminate);

        // Then the process ended by the signal is reported as stopped before it was ready, not as killed or failed, and the exit is 0
        Assert.Equal(0, await supervisor.Process.WaitForExitAsync(Timeout));
        var output = supervisor.Process.Output;
        Assert.Contains("starting stopped before it was ready: the SIGTERM it was sent ended it while it was starting", output, StringComparison.Ordinal);
        Assert.DoesNotContain("killed", output, StringComparison.Ordinal);
        Assert.DoesNotContain("restarting", output, StringComparison.Ordinal);
        Assert.DoesNotContain("started later", output, StringComparison.Ordinal);
        Assert.Contains("exiting with code 0", output, StringComparison.Ordinal);
        Assert.False(LiveProcess.IsRunning(pid));
    }

    [Fact]
    public async Task Gives_up_on_a_crash_loop_stops_the_other_processes_and_exits_non_zero()
    {
        // Given a steady process and one that fails at once, at most 3 failures a minute
        await using var supervisor = Supervisor.Start(
            "steady: sleep 600\ncrasher: sh -c 'echo failing now; exit 3'\n", "--max-restarts", "3", "--restart-window", "60s");

        // Then the supervisor gives up with a non-zero exit code, having stopped the steady one
        var steady = await supervisor.RunningAsync("steady");
        Assert.Equal(1, await supervisor.Process.WaitForExitAsync(Timeout));
        Assert.Contains("crasher (pid", supervisor.Process.Output, StringComparison.Ordinal);
        Assert.Contains("exited with code 3; it failed 4 times within 60.0 s: giving up, stopping everything", supervisor.Process.Output, StringComparison.Ordinal);
        Assert.False(LiveProcess.IsRunning(steady));
        Assert.Contains("failing now", await File.ReadAllTextAsync(supervisor.Folder.PathOf("logs/crasher.log")), StringComparison.Ordinal);
        Assert.False(File.Exists(supervisor.EndpointsFile));
    }

    [Fact]
    public async Task A_ready_process_holds_back_the_next_hands_them_what_it_announced_and_restarts_them_when_it_restarts()
    {
        // Given a process that announces an endpoint and an environment variable half a second after it starts, and one after it
        const string announce = """
            printf '{"endpoints":{"baseUrl":"tcp://base"},"environment":{"BASE_URL":"tcp://base"}}' > "$STREAMING_ANNOUNCE.tmp" && mv "$STREAMING_ANNOUNCE.tmp" "$STREAMING_ANNOUNCE"
            """;
        await using var supervisor = Supervisor.Start(
            $"base ready: sh -c 'sleep 0.5; {announce.Replace("'", "'\\''", StringComparison.Ordinal)}; exec sleep 600'\n" +
            "user: sh -c 'echo \"user sees $BASE_URL\"; exec sleep 600'\n");

        // Then the second starts only once the first is ready, with its environment, and the endpoints file has what it announced
        await supervisor.Process.WaitForOutputAsync("user       | user sees tcp://base", Timeout);
        var output = supervisor.Process.Output;
        Assert.True(output.IndexOf("base is ready", StringComparison.Ordinal) < output.IndexOf("started user", StringComparison.Ordinal), output);
        // (The file is written once the whole start is done, which may be a moment after the second process printed.)
        await Eventually.True(() => Task.FromResult(supervisor.Endpoints()?["baseUrl"]?.GetValue<string>() == "tcp://base"), Timeout, "the announced endpoint in the endpoints file");
        var user = await supervisor.RunningAsync("user");

        // When the first is killed, the second is stopped, and both start again in order
        PosixSignals.Send(await supervisor.RunningAsync("base"), PosixSignals.Kill);
        await supervisor.Process.WaitForOutputAsync($"stopping user (pid {user}): base is down", Timeout);
        await supervisor.RunningAsync("user", not: user);
        Assert.False(LiveProcess.IsRunning(user));
    }

    [Fact]
    public async Task Refuses_an_endpoints_file_a_running_process_owns_and_replaces_one_a_dead_process_left()
    {
        // Given an endpoints file written by a process that still runs (this one)
        using var folder = new TemporaryFolder();
        await File.WriteAllTextAsync(folder.PathOf("test.procfile"), "worker: sleep 600\n");
        await File.WriteAllTextAsync(folder.PathOf("endpoints.json"), $$"""{ "pid": {{Environment.ProcessId}} }""");

        // Then the supervisor refuses to start, and leaves the file alone
        await using (var refused = Supervisor.Start(folder))
        {
            Assert.Equal(2, await refused.Process.WaitForExitAsync(Timeout));
            Assert.Contains("belongs to process", refused.Process.Output, StringComparison.Ordinal);
            Assert.Contains($"{Environment.ProcessId}", await File.ReadAllTextAsync(folder.PathOf("endpoints.json")), StringComparison.Ordinal);
        }

        // Given instead one left by a process that is gone
        await using (var gone = RunningProcess.Start("true", []))
        {
            await gone.WaitForExitAsync(Timeout);
            await File.WriteAllTextAsync(folder.PathOf("endpoints.json"), $$"""{ "pid": {{gone.Pid}} }""");
        }

        // Then the supervisor says it is stale and writes its own
        await using var supervisor = Supervisor.Start(folder);
        await supervisor.RunningAsync("worker");
        Assert.Contains("removed a stale", supervisor.Process.Output, StringComparison.Ordinal);
        Assert.Equal(supervisor.Process.Pid, supervisor.Endpoints()?["pid"]?.GetValue<int>());
    }
}
