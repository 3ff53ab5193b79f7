using System.Diagnostics;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Deployment;

/// <summary>
/// The Docker engine and the images scripts/images.sh builds, as the deployment tests need them. Nothing here skips: a
/// machine without an engine or without the images fails these tests with the reason.
/// </summary>
public static class Docker
{
    /// <summary>Set by test.sh: a file that holds scripts/images.sh's exit status once the background build has ended.</summary>
    public const string ImagesStatusVariable = "STREAMING_TEST_IMAGES_STATUS";

    public const string Tag = "local";

    static readonly SemaphoreSlim ImagesChecked = new(1, 1);
    static bool _imagesReady;

    public static async Task<(int ExitCode, string Output)> RunAsync(string program, string arguments, TimeSpan timeout, string? input = null)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot.Path,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {arguments} did not finish within {timeout.TotalSeconds:0} s");
        }
        return (process.ExitCode, (await output) + (await errors));
    }

    public static async Task<string> CheckedAsync(string program, string arguments, TimeSpan timeout, string? input = null)
    {
        var (exitCode, output) = await RunAsync(program, arguments, timeout, input);
        return exitCode == 0 ? output : throw new InvalidOperationException($"{program} {arguments} failed ({exitCode}): {output}");
    }

    /// <summary>Fails with the reason when no engine answers (test.sh starts one: scripts/docker-engine.sh).</summary>
    public static async Task RequireEngineAsync()
    {
        var (exitCode, output) = await RunAsync("docker", "info --format {{.ServerVersion}}", TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0,
            $"no Docker engine answers ({output.Trim()}); ./test.sh starts one with scripts/docker-engine.sh, which needs root on a fresh machine");
    }

    /// <summary>
    /// Waits for test.sh's background image build when there is one (it overlaps the solution build and the other
    /// tests), then checks that every image is there.
    /// </summary>
    public static async Task RequireImagesAsync()
    {
        await RequireEngineAsync();
        await ImagesChecked.WaitAsync();
        try
        {
            if (_imagesReady)
            {
                return;
            }
            await BackgroundStep.WaitAsync(ImagesStatusVariable, "the background image build (scripts/images.sh)", TimeSpan.FromMinutes(10));
            foreach (var image in new[] { "ingest", "projector", "promoter", "api", "broker", "postgres", "rabbitmq" })
            {
                var (exitCode, _) = await RunAsync("docker", $"image inspect streaming/{image}:{Tag}", TimeSpan.FromSeconds(30));
                Assert.True(exitCode == 0, $"the image streaming/{image}:{Tag} is missing: scripts/images.sh builds it");
            }
            _imagesReady = true;
        }
        finally
        {
            ImagesChecked.Release();
        }
    }

    public static async Task<string> HealthAsync(string container) =>
        (await CheckedAsync("docker", $"inspect --format {{{{.State.Health.Status}}}} {container}", TimeSpan.FromSeconds(30))).Trim();
}
