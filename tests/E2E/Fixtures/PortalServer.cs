using System.Net;
using System.Text;

namespace Portal.E2E.Fixtures;

/// <summary>
/// The portal as an operator runs it: the built Portal.dll as its own process on a free loopback port,
/// with a fresh data folder and demo data. Chromium comes from Debian (/usr/bin/chromium); Playwright's
/// bundled driver talks to it. Each role signs in once; tests reuse that session.
/// </summary>
public sealed class PortalServer : IAsyncLifetime
{
    public const string DemoPassword = "E2E-Demo-Passw0rd!";
    private const string Chromium = "/usr/bin/chromium";

    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _policyViolations = new();
    private readonly Dictionary<string, string> _sessions = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _sessionGate = new(1, 1);
    private string _dataDirectory = "";
    private PortalProcess? _process;

    public string BaseUrl { get; private set; } = "";

    public IPlaywright Playwright { get; private set; } = default!;

    public IBrowser Browser { get; private set; } = default!;

    /// <summary>Where screenshots for docs/ go.</summary>
    public static string ScreenshotFolder => Path.Combine(PortalProcess.Metadata("RepositoryRoot"), "docs", "images");

    /// <summary>Every Content-Security-Policy violation any page reported in this run (page URL and the browser's words).</summary>
    public IReadOnlyList<string> PolicyViolations => [.. _policyViolations];

    public string ServerLog => _process?.Log ?? "";

    public async Task InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: the test build installs it (.ci/prerequisites tests).");
        }

        _dataDirectory = Path.Combine(Path.GetTempPath(), $"portal-e2e-{Guid.NewGuid():N}");
        _process = PortalProcess.Start(_dataDirectory, DemoPassword);
        BaseUrl = _process.BaseUrl;
        await _process.WaitUntilHealthyAsync();
        await WaitForDemoDataAsync();

        // Machines here are shared; expectations get the same patience as actions.
        Assertions.SetDefaultExpectTimeout(15_000);
        Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"],
        });
    }

    /// <summary>A new browser context signed in as <paramref name="userName"/> (the sign-in itself happens once per user).</summary>
    public async Task<IBrowserContext> ContextAsAsync(string userName)
    {
        var state = await SessionOfAsync(userName);
        return await NewContextAsync(new BrowserNewContextOptions { StorageStatePath = state });
    }

    /// <summary>A new browser context with no session.</summary>
    /// <summary>An HTTP client speaking the portal's APIs as <paramref name="userName"/> (Basic auth), as scripts do.</summary>
    public HttpClient ApiClient(string userName)
    {
        var http = new HttpClient { BaseAddress = new Uri(BaseUrl), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{userName}:{DemoPassword}")));
        return http;
    }

    public Task<IBrowserContext> AnonymousContextAsync() => NewContextAsync(new BrowserNewContextOptions());

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        Playwright?.Dispose();
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }
        // Kept for diagnosing failures (CI uploads tests/E2E/artifacts).
        var artifacts = Path.Combine(PortalProcess.Metadata("RepositoryRoot"), "tests", "E2E", "artifacts");
        Directory.CreateDirectory(artifacts);
        await File.WriteAllTextAsync(Path.Combine(artifacts, "portal-server.log"), ServerLog);
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private async Task<IBrowserContext> NewContextAsync(BrowserNewContextOptions options)
    {
        options.BaseURL = BaseUrl;
        options.ViewportSize = new ViewportSize { Width = 1400, Height = 900 };
        options.Locale = "en-US";
        options.TimezoneId = "UTC";
        var context = await Browser.NewContextAsync(options);
        context.SetDefaultTimeout(15_000);
        // Chromium reports what the page's Content-Security-Policy refused on the console.
        context.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                _policyViolations.Enqueue($"{message.Page?.Url}: {message.Text}");
            }
        };
        return context;
    }

    private async Task<string> SessionOfAsync(string userName)
    {
        await _sessionGate.WaitAsync();
        try
        {
            if (_sessions.TryGetValue(userName, out var path))
            {
                return path;
            }

            await using var context = await NewContextAsync(new BrowserNewContextOptions());
            var page = await context.NewPageAsync();
            var login = new Pages.LoginPage(page);
            await login.GotoAsync();
            await login.SignInAsync(userName, DemoPassword);
            await new Pages.ShellPage(page).WaitForInteractiveAsync();
            path = Path.Combine(_dataDirectory, $"session-{userName}.json");
            await context.StorageStateAsync(new BrowserContextStorageStateOptions { Path = path });
            _sessions[userName] = path;
            return path;
        }
        finally
        {
            _sessionGate.Release();
        }
    }

    /// <summary>Demo datasets are seeded in the background after start-up; tests look at them.</summary>
    private async Task WaitForDemoDataAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{DemoUsers.Admin}:{DemoPassword}")));
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.GetAsync($"{BaseUrl}/api/v1/datasets/credit-risk/versions/2");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                break;
            }

            await Task.Delay(250);
        }

        // The demo's sample jobs (real training runs) and its generated history come next.
        deadline = DateTime.UtcNow.AddSeconds(180);
        while (DateTime.UtcNow < deadline)
        {
            using var jobs = await http.GetAsync($"{BaseUrl}/api/v1/jobs?take=20");
            var text = jobs.StatusCode == HttpStatusCode.OK ? await jobs.Content.ReadAsStringAsync() : "";
            using var history = await http.GetAsync($"{BaseUrl}/api/2.0/mlflow/experiments/get-by-name?experiment_name=credit-risk-history");
            // Then the demo model: three versions through the real checks (evaluation jobs) and the approval workflow.
            using var candidate = await http.GetAsync($"{BaseUrl}/api/v1/models/credit-risk/versions/3");
            var model = candidate.StatusCode == HttpStatusCode.OK ? await candidate.Content.ReadAsStringAsync() : "";
            if (text.Contains("\"Completed\"", StringComparison.Ordinal) && !text.Contains("\"Queued\"", StringComparison.Ordinal)
                && !text.Contains("\"Running\"", StringComparison.Ordinal) && history.StatusCode == HttpStatusCode.OK
                && model.Contains("\"state\":\"PendingApproval\"", StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"The demo data (datasets, sample jobs, run history, model versions) was not seeded in time:\n{ServerLog}");
    }
}

[CollectionDefinition(Name)]
public sealed class PortalCollection : ICollectionFixture<PortalServer>
{
    public const string Name = "Portal in a real browser";
}
