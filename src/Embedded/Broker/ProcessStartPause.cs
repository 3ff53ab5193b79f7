using System.Diagnostics;
using System.Reflection;

namespace Streaming.Embedded.Broker;

/// <summary>
/// Holds off process starts in this process while an action runs. A process being started holds a copy of every open
/// socket until it executes its program (close-on-exec applies only then), so a socket closed meanwhile stays open:
/// a mock broker taken down closes its listening socket and binds its port again at once, the bind fails on the
/// socket still listening, and librdkafka aborts the whole process. .NET starts every process under a read lock of its
/// own (and takes it to write when reaping children); holding it to write keeps new processes from starting, and the
/// ones already starting have executed their program once it is granted.
/// </summary>
static class ProcessStartPause
{
    static readonly ReaderWriterLockSlim Lock =
        (typeof(Process).GetField("s_processStartLock", BindingFlags.NonPublic | BindingFlags.Static)
         ?? typeof(Process).Assembly.GetType("System.Diagnostics.ProcessUtils")?.GetField("s_processStartLock", BindingFlags.NonPublic | BindingFlags.Static))
        ?.GetValue(null) as ReaderWriterLockSlim
        ?? throw new PlatformNotSupportedException(
            "this .NET has no process start lock (System.Diagnostics.Process.s_processStartLock) to hold while a mock broker binds its port again");

    public static void During(Action action)
    {
        Lock.EnterWriteLock();
        try
        {
            action();
        }
        finally
        {
            Lock.ExitWriteLock();
        }
    }
}
