using System.Runtime.InteropServices;

namespace Streaming.Embedded.Broker;

/// <summary>
/// Runs a native call that starts a thread with every signal blocked on the calling thread, so the new thread, which
/// takes its signal mask from its creator, never runs a signal handler. librdkafka's mock cluster polls its sockets on
/// a thread of its own and takes any failed poll as the end of the cluster, an interrupted one too: a process-wide
/// signal (a child process's SIGCHLD, several a second when processes are started and end) that lands on that thread
/// stops every broker of the cluster. librdkafka blocks every signal in the threads of its clients, not in this one.
/// </summary>
static partial class SignalsBlocked
{
    // glibc's sigset_t: 1,024 bits; it leaves its own internal signals out of any mask set.
    const int SignalSetBytes = 128;
    const int Block = 0;
    const int SetMask = 2;

    public static T During<T>(Func<T> start)
    {
        var every = new byte[SignalSetBytes];
        Array.Fill(every, (byte)0xFF);
        var previous = new byte[SignalSetBytes];
        Check(pthread_sigmask(Block, every, previous), "block the calling thread's signals");
        try
        {
            return start();
        }
        finally
        {
            Check(pthread_sigmask(SetMask, previous, null), "restore the calling thread's signal mask");
        }
    }

    static void Check(int error, string what)
    {
        if (error != 0)
        {
            throw new InvalidOperationException($"could not {what}: pthread_sigmask returned {error}");
        }
    }

    [LibraryImport("libc.so.6")]
    private static partial int pthread_sigmask(int how, byte[] set, byte[]? previous);
}
