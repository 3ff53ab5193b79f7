using System.Diagnostics;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of the test's own (scripts/postgres.sh in a temporary folder, on a free port), for tests that
/// stop and start the server: the shared one serves every other test at the same time.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("streaming-test-pg-").FullName;
    readonly int _port = Streaming.Chaos.Environment.FreePort.Next();

    public string ConnectionString { get; private set; } = "";

    public async Task StartAsync() =>
        ConnectionString = (await RunAsync("start", _directory, _port.ToString(System.Globalization.CultureInfo.InvariantCulture))).Trim();

    /// <summary>Stops the server as an operator would for a restart (<c>pg_ctl stop -m fast</c>): sessions are ended.</summary>
    public Task StopAsync() => RunAsync("stop", _directory);

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        Directory.Delete(_directory, recursive: true);
    }

    static async Task<string> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(RepositoryRoot.Path, "scripts", "postgres.sh"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/postgres.sh {string.Join(' ', arguments)} failed: {await errors}");
        }
        return await output;
    }

}
