using Microsoft.Playwright;

namespace Streaming.Tests.Surface;

/// <summary>
/// Debian's Chromium (installed by the set-up), driven by Playwright: headless, with a fresh profile folder, and the
/// flags that keep it from reaching for the network on its own. Playwright never downloads a browser here.
/// </summary>
public sealed class HeadlessChromium : IAsyncLifetime
{
    public const string ExecutablePath = "/usr/bin/chromium";

    readonly string _profile = Directory.CreateTempSubdirectory("streaming-chromium-").FullName;
    IPlaywright? _playwright;

    public IBrowserContext Context { get; private set; } = null!;

    public static string Screenshots { get; } = Path.Combine(Infrastructure.RepositoryRoot.Path, "artifacts", "screenshots");

    public async Task InitializeAsync()
    {
        await Infrastructure.DebianPackages.RequireAsync();
        _playwright = await Playwright.CreateAsync();
        Context = await _playwright.Chromium.LaunchPersistentContextAsync(_profile, new BrowserTypeLaunchPersistentContextOptions
        {
            ExecutablePath = ExecutablePath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            ViewportSize = new ViewportSize { Width = 1400, Height = 900 },
        });
        Directory.CreateDirectory(Screenshots);
    }

    public async Task DisposeAsync()
    {
        if (Context is not null)
        {
            await Context.CloseAsync();
        }
        _playwright?.Dispose();
        Directory.Delete(_profile, recursive: true);
    }
}
