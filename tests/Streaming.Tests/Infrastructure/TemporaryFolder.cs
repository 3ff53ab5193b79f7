namespace Streaming.Tests.Infrastructure;

/// <summary>A folder of a test's own under a private (mode 700) parent, as a clone in root's home would be; deleted afterwards.</summary>
public sealed class TemporaryFolder : IDisposable
{
    public TemporaryFolder()
    {
        // Created with mode 700 (owner only), like a home folder.
        Parent = Directory.CreateTempSubdirectory("streaming-test-").FullName;
        Path = Directory.CreateDirectory(System.IO.Path.Combine(Parent, "work")).FullName;
    }

    /// <summary>The private parent folder.</summary>
    public string Parent { get; }

    public string Path { get; }

    public string PathOf(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Parent, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
