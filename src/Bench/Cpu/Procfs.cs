using System.Diagnostics;
using System.Globalization;

namespace Streaming.Bench.Cpu;

/// <summary>Process times, parents and peak memory read from Linux's <c>/proc</c>.</summary>
public static class Procfs
{
    /// <summary>Clock ticks per second, the unit of <c>/proc/PID/stat</c>'s times (<c>getconf CLK_TCK</c>).</summary>
    public static readonly double TicksPerSecond = ReadTicksPerSecond();

    /// <summary>One process's <c>/proc/PID/stat</c>, or null when it has gone.</summary>
    public static ProcessTicks? Read(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return null;
        }
        // The command name is in parentheses and may itself hold spaces or parentheses: the fields follow the last ')'.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        long Field(int number) => long.Parse(fields[number - 3], CultureInfo.InvariantCulture);
        return new ProcessTicks(pid, (int)Field(4), Field(14) + Field(15), Field(16) + Field(17));
    }

    /// <summary>Every process whose parent is <paramref name="parent"/>.</summary>
    public static List<ProcessTicks> Children(int parent) => All().Where(p => p.ParentPid == parent).ToList();

    /// <summary><paramref name="root"/> and all its descendants.</summary>
    public static List<ProcessTicks> Tree(int root) => Trees([root]);

    /// <summary>Each of <paramref name="roots"/> and all their descendants, from one read of <c>/proc</c>.</summary>
    public static List<ProcessTicks> Trees(IReadOnlyCollection<int> roots)
    {
        var all = All();
        var tree = all.Where(p => roots.Contains(p.Pid)).ToList();
        for (var i = 0; i < tree.Count; i++)
        {
            tree.AddRange(all.Where(p => p.ParentPid == tree[i].Pid));
        }
        return tree;
    }

    /// <summary>The process's peak resident set (<c>VmHWM</c>), 0 when it has gone.</summary>
    public static long PeakRssBytes(int pid) => StatusBytes(pid, "VmHWM:");

    /// <summary>The process's resident set now (<c>VmRSS</c>), 0 when it has gone.</summary>
    public static long RssBytes(int pid) => StatusBytes(pid, "VmRSS:");

    static long StatusBytes(int pid, string field)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
        }
        return 0;
    }

    static List<ProcessTicks> All()
    {
        var processes = new List<ProcessTicks>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Read(pid) is { } process)
            {
                processes.Add(process);
            }
        }
        return processes;
    }

    static double ReadTicksPerSecond()
    {
        using var getconf = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true })!;
        var output = getconf.StandardOutput.ReadToEnd();
        getconf.WaitForExit();
        return double.TryParse(output.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks) && ticks > 0 ? ticks : 100;
    }
}

/// <summary>A process's CPU time in clock ticks: its own (user + system), and that of its children it has reaped.</summary>
public readonly record struct ProcessTicks(int Pid, int ParentPid, long Own, long ReapedChildren);
