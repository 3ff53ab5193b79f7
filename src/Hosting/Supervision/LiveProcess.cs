namespace Streaming.Hosting.Supervision;

/// <summary>Whether a process id names a process that is still running (not gone, not a zombie waiting to be reaped).</summary>
public static class LiveProcess
{
    public static bool IsRunning(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }
        try
        {
            // /proc/PID/stat: "PID (COMMAND) STATE ..."; the command may hold spaces and parentheses, the state follows the last ')'.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat.AsSpan(stat.LastIndexOf(')') + 1).TrimStart();
            return state.Length > 0 && state[0] is not ('Z' or 'X');
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return true;
        }
    }
}
