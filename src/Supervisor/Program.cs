using System.Runtime.InteropServices;
using Streaming.Supervisor;

SupervisorOptions options;
IReadOnlyList<ProcfileEntry> entries;
try
{
    options = SupervisorOptions.Parse(args);
    entries = Procfile.WithInstances(Procfile.Parse(await File.ReadAllTextAsync(options.ProcfilePath), options.ProcfilePath), options.Instances);
}
catch (Exception e) when (e is ArgumentException or FormatException or IOException)
{
    Console.Error.WriteLine($"Streaming.Supervisor: {e.Message}{Environment.NewLine}{SupervisorOptions.Usage}");
    return ProcessSupervisor.Refused;
}

// The first SIGINT or SIGTERM stops the processes in order; a second one kills what is still running.
using var stop = new CancellationTokenSource();
using var force = new CancellationTokenSource();
void OnSignal(PosixSignalContext context)
{
    context.Cancel = true;
    if (stop.IsCancellationRequested)
    {
        force.Cancel();
    }
    stop.Cancel();
}
using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

await using var log = new SupervisorLog(Path.Combine(options.RunDirectory, "logs"), Math.Max(SupervisorLog.Self.Length, entries.Max(e => e.Name.Length)));
var code = await new ProcessSupervisor(options, entries, log).RunAsync(stop.Token, force.Token);
log.Info($"exiting with code {code}");
return code;
