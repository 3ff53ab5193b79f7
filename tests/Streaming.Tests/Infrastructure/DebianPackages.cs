namespace Streaming.Tests.Infrastructure;

/// <summary>
/// The Debian packages only some tests need (Chromium, Prometheus's promtool, kcat). On a fresh machine test.sh
/// installs them beside the tests, which start once PostgreSQL and RabbitMQ are up; a test that needs one waits here.
/// </summary>
public static class DebianPackages
{
    /// <summary>Set by test.sh: a file that holds the background install's exit status once it has ended.</summary>
    public const string StatusVariable = "STREAMING_TEST_PACKAGES_STATUS";

    public static Task RequireAsync() =>
        BackgroundStep.WaitAsync(StatusVariable, "the Debian packages test.sh installs beside the tests (scripts/setup.sh --packages-only)",
            TimeSpan.FromMinutes(10));
}
