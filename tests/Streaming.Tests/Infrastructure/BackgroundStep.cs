namespace Streaming.Tests.Infrastructure;

/// <summary>
/// A step test.sh runs in the background beside the tests (the Debian packages some tests need, the container images):
/// it writes the step's exit status to the file an environment variable names once the step has ended, and its log
/// beside it (same name, <c>.log</c>). Without the variable (tests run by hand, after scripts/setup.sh) there is
/// nothing to wait for. Nothing here skips: a failed step fails the test with its log.
/// </summary>
public static class BackgroundStep
{
    public static async Task WaitAsync(string statusVariable, string what, TimeSpan timeout)
    {
        if (Environment.GetEnvironmentVariable(statusVariable) is not { Length: > 0 } statusFile)
        {
            return;
        }
        var status = await Eventually.Get(
            () => Task.FromResult(File.Exists(statusFile) ? File.ReadAllText(statusFile).Trim() : ""),
            s => s.Length > 0, timeout, what + " to end");
        var log = Path.ChangeExtension(statusFile, ".log");
        Assert.True(status == "0", $"{what} failed ({status}): {(File.Exists(log) ? File.ReadAllText(log) : "no log")}");
    }

}
