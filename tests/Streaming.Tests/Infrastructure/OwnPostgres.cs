using System.Diagnostics;
using Npgsql;

namespace Streaming.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of the test's own (<c>scripts/postgres.sh</c>, a data folder and port of its own), which the test
/// can stop and start again for real while services use it; removed afterwards.
/// </summary>
public sealed class OwnPostgres : IAsyncLifetime
{
    readonly string _directory = Directory.CreateTempSubdirectory("streaming-test-own-pg.").FullName;
    readonly int _port = Streaming.Chaos.Environment.FreePort.Next();

    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        ConnectionString = (await ScriptAsync("start", _directory, _port.ToString(System.Globalization.CultureInfo.InvariantCulture))).Trim();
        await using var admin = new NpgsqlConnection(ConnectionString);
        await admin.OpenAsync();
        await using var create = new NpgsqlCommand("create database outage", admin);
        await create.ExecuteNonQueryAsync();
        ConnectionString = new NpgsqlConnectionStringBuilder(ConnectionString) { Database = "outage" }.ConnectionString;
    }

    /// <summary>Shuts the server down (<c>pg_ctl stop -m fast</c>: every session is ended with 57P01).</summary>
    public Task StopAsync() => ScriptAsync("stop", _directory);

    /// <summary>Starts it again on the same data and port.</summary>
    public Task StartAsync() => ScriptAsync("start", _directory, _port.ToString(System.Globalization.CultureInfo.InvariantCulture));

    public async Task DisposeAsync()
    {
        await ScriptAsync("stop", _directory);
        Directory.Delete(_directory, recursive: true);
    }

    static async Task<string> ScriptAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Path.Combine(RepositoryRoot.Path, "scripts", "postgres.sh"), arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var script = Process.Start(start)!;
        var output = script.StandardOutput.ReadToEndAsync();
        var errors = script.StandardError.ReadToEndAsync();
        await script.WaitForExitAsync();
        if (script.ExitCode != 0)
        {
            throw new InvalidOperationException($"scripts/postgres.sh {string.Join(' ', arguments)} failed ({script.ExitCode}): {await errors}");
        }
        return await output;
    }

}
