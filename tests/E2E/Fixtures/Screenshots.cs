namespace Portal.E2E.Fixtures;

/// <summary>Saves screenshots the docs use (docs/images), so the guides show what the portal looks like today.</summary>
public static class Screenshots
{
    public static async Task SaveAsync(IPage page, string name)
    {
        Directory.CreateDirectory(PortalServer.ScreenshotFolder);
        // Let toasts and animations settle so the picture shows the page, not a transition.
        await page.WaitForTimeoutAsync(300);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(PortalServer.ScreenshotFolder, name + ".png"), FullPage = false });
    }
}
