using System.Runtime.InteropServices;

namespace Streaming.Hosting.Supervision;

/// <summary>Sends POSIX signals: to one process, or to a supervised process and everything it started (its process group: each runs in a session of its own).</summary>
public static partial class PosixSignals
{
    public const int Terminate = 15;
    public const int Kill = 9;

    /// <summary>False when there is no such process (any more).</summary>
    public static bool Send(int pid, int signal) => kill(pid, signal) == 0;

    public static void SendToGroup(int pid, int signal)
    {
        // The group may already be gone, or the process not yet its leader; then the process alone.
        if (kill(-pid, signal) != 0)
        {
            kill(pid, signal);
        }
    }

    public static string Describe(int exitCode) => exitCode > 128 && exitCode < 160
        ? $"was killed by signal {exitCode - 128}{Name(exitCode - 128)}"
        : $"exited with code {exitCode}";

    static string Name(int signal) => signal switch
    {
        Kill => " (SIGKILL)",
        Terminate => " (SIGTERM)",
        2 => " (SIGINT)",
        6 => " (SIGABRT)",
        11 => " (SIGSEGV)",
        _ => "",
    };

    [LibraryImport("libc", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
