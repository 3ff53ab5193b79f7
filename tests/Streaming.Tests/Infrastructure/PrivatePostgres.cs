using System.Diagnostics;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of the test's own (<c>scripts/postgres.sh</c> in a temporary folder, on a free port), which the
/// test can stop and start again for real while services use it: the shared one serves every other test at the same
/// time. Disposing stops it and removes its folder.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    readonly string _directory = Directory.CreateTempSubdirectory("streaming-test-pg-").FullName;
    readonly int _port = Streaming.Chaos.Environment.FreePort.Next();

    public string ConnectionString { get; private set; } = "";

    /// <summary>Starts the server; after <see cref="StopAsync"/>, starts it again on the same data and port.</summary>
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
            throw new InvalidOperationException($"scripts/postgres.sh {string.Join(' ', arguments)} failed ({process.ExitCode}): {await errors}");
        }
        return await output;
    }

}
