using System.Runtime.InteropServices;

namespace Streaming.Hosting;

/// <summary>
/// For command-line tools that stop cleanly: Ctrl-C (SIGINT) and SIGTERM cancel the returned source instead of ending the
/// process, so what the tool started (servers, processes, folders) is removed on the way out.
/// </summary>
public static class CtrlC
{
    // Kept for the process's life: a registration that is collected stops handling its signal.
    static readonly List<PosixSignalRegistration> Registrations = [];

    public static CancellationTokenSource Cancels()
    {
        var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cancellation.Cancel();
        });
        lock (Registrations)
        {
            Registrations.Add(terminate);
        }
        return cancellation;
    }
}
