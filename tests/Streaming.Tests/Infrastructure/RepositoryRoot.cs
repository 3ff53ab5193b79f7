namespace Streaming.Tests.Infrastructure;

/// <summary>The checkout the tests were built from.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, "Streaming.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException("Streaming.sln not found above " + AppContext.BaseDirectory);
    }
}
