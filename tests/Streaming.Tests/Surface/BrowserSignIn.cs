using Microsoft.Playwright;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>Signs in on a fresh page of the shared browser, collecting console errors, page errors and unexpected dialogs.</summary>
public static class BrowserSignIn
{
    public static async Task<(IPage Page, List<string> Errors)> SignInAsync(HeadlessChromium browser, SurfaceSystem system, string role, string path, TimeSpan timeout)
    {
        await browser.Context.ClearCookiesAsync();
        var page = await browser.Context.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        page.PageError += (_, error) => errors.Add(error);
        page.Dialog += (_, dialog) => errors.Add("a dialog opened: " + dialog.Message);
        await page.GotoAsync(new Uri(system.BaseUrl, path).ToString());
        await page.FillAsync("#token", system.Tokens[role]);
        await page.ClickAsync("#signin-button");
        await page.WaitForSelectorAsync("body[data-ready=true]", new() { Timeout = (float)timeout.TotalMilliseconds });
        return (page, errors);
    }
}
