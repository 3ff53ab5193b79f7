namespace Streaming.Hosting;

/// <summary>For command-line tools that stop cleanly: Ctrl-C cancels the returned source instead of ending the process.</summary>
public static class CtrlC
{
    public static CancellationTokenSource Cancels()
    {
        var cancellation = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancellation.Cancel();
        };
        return cancellation;
    }
}
