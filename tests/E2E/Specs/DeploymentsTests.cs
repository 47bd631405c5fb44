using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

/// <summary>
/// Ops in the browser, on the demo endpoint that the demo's sample traffic keeps busy: deploys a newly approved
/// version, scores it from the try-it box, runs a gated canary of it to completion, watches the live charts and
/// drift, sees the deliberately broken sample model rolled back automatically, and rolls back by hand.
/// </summary>
[Collection(PortalCollection.Name)]
public class DeploymentsTests(PortalServer portal)
{
    private const string Endpoint = "credit-risk";

    [Fact]
    public async Task OpsDeploysScores_RunsACanary_SeesAnAutomaticRollback_AndRollsBackByHand()
    {
        // The versions Ops works with: a good one (the shallow sample model registered again) and the broken sample.
        var good = await ApprovedVersionAsync(await ShallowRunAsync(), "outputs/model.pkl");
        var flaky = await ApprovedVersionAsync(await TrainBrokenAsync(), "outputs/model");

        await using var context = await portal.ContextAsAsync(DemoUsers.Ops);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);
        await shell.GotoAsync("/deployments");
        var endpoints = page.GetByLabel("Endpoints", new PageGetByLabelOptions { Exact = true });
        await Assertions.Expect(endpoints).ToContainTextAsync(Endpoint);
        await Assertions.Expect(endpoints.Locator("[data-state=Healthy]")).ToBeVisibleAsync();
        await Assertions.Expect(endpoints).ToContainTextAsync("sample traffic");
        await Screenshots.SaveAsync(page, "deployments-list");
        await endpoints.GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = Endpoint }).ClickAsync();
        await page.WaitForURLAsync($"**/deployments/{Endpoint}");
        await shell.WaitForInteractiveAsync();

        // Deploy: a new deployment of the newly approved version, which starts with no traffic.
        await AddDeploymentAsync(page, "green", good);
        var deployments = page.GetByLabel("Deployments", new PageGetByLabelOptions { Exact = true });
        await Assertions.Expect(deployments.Locator("tr", new() { HasText = "green" }).Locator("[data-state=Healthy]")).ToBeVisibleAsync(new() { Timeout = 90_000 });

        // Score from the try-it box: the request goes through the gateway like any caller's.
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Try it" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Score" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("tryit-status")).ToHaveTextAsync("200");
        await Assertions.Expect(page.GetByTestId("tryit-deployment")).ToHaveTextAsync("blue");
        await Assertions.Expect(page.GetByTestId("tryit-body")).ToContainTextAsync("predictions");
        await Assertions.Expect(page.GetByTestId("tryit-model")).ToContainTextAsync("ms");
        await Screenshots.SaveAsync(page, "endpoint-try-it");

        // A gated canary of green: it steps through its plan on live traffic and takes over.
        await StartCanaryAsync(page, "green", steps: "50, 100", bakeSeconds: 10, latencyFactor: 20);
        var rollout = page.GetByRole(AriaRole.Region, new PageGetByRoleOptions { Name = "Rollout in progress" });
        await Assertions.Expect(rollout).ToContainTextAsync("Canary of green");
        await Assertions.Expect(rollout.GetByLabel("Rollout timeline")).ToContainTextAsync("green takes 50 %", new() { Timeout = 30_000 });
        await Screenshots.SaveAsync(page, "canary-in-progress");
        await Assertions.Expect(rollout).ToBeHiddenAsync(new() { Timeout = 120_000 });
        var configured = page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { NameRegex = new("^Configured split") });
        await Assertions.Expect(configured).ToHaveAttributeAsync("aria-label", "Configured split: blue 0 %, green 100 %");

        // Watch it live: the charts draw and keep drawing; drift is computed against the training data.
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Monitoring" }).ClickAsync();
        var rate = page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Requests per second by deployment" });
        await Assertions.Expect(rate).ToHaveAttributeAsync("data-rendered", "true", new() { Timeout = 20_000 });
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Latency p50, p95 and p99 by deployment" })).ToHaveAttributeAsync("data-rendered", "true");
        await Assertions.Expect(page.GetByLabel("Drift of green").Locator("[data-feature=annual_income]")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await rate.ScrollIntoViewIfNeededAsync();
        await Screenshots.SaveAsync(page, "endpoint-monitoring");

        // The broken sample model as a canary: a breached gate returns all traffic to green at once, with an alert.
        await AddDeploymentAsync(page, "flaky", flaky);
        await Assertions.Expect(deployments.Locator("tr", new() { HasText = "flaky" }).Locator("[data-state=Healthy]")).ToBeVisibleAsync(new() { Timeout = 90_000 });
        await StartCanaryAsync(page, "flaky", steps: "50, 100", bakeSeconds: 120, latencyFactor: 20);
        await Assertions.Expect(rollout).ToContainTextAsync("Canary of flaky");
        await Assertions.Expect(rollout).ToBeHiddenAsync(new() { Timeout = 120_000 });
        await Assertions.Expect(shell.Toasts.Filter(new() { HasText = "Canary on credit-risk rolled back" })).ToBeVisibleAsync();
        var alerts = page.GetByRole(AriaRole.Region, new PageGetByRoleOptions { Name = "Alerts of this endpoint" });
        await Assertions.Expect(alerts).ToContainTextAsync("Automatic rollback of flaky on credit-risk");
        await Assertions.Expect(alerts).ToContainTextAsync("gate breached");
        await Assertions.Expect(configured).ToHaveAttributeAsync("aria-label", "Configured split: blue 0 %, green 100 %, flaky 0 %");
        await Screenshots.SaveAsync(page, "automatic-rollback");
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "History" }).ClickAsync();
        await Assertions.Expect(page.Locator("details[data-rollout=RolledBack]")).ToContainTextAsync("Rolled back: gate breached");

        // By hand: back to the production split before green's canary.
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Roll back" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Roll back" }).ClickAsync();
        await Assertions.Expect(configured).ToHaveAttributeAsync("aria-label", "Configured split: blue 100 %, green 0 %, flaky 0 %");
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Rolled back to the previous assignment" })).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "manual-rollback");

        using var admin = portal.ApiClient(DemoUsers.Admin);
        var audit = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/audit?entity=endpoint:{Endpoint}");
        var reasons = audit.EnumerateArray().Where(e => e.GetProperty("action").GetString() == "endpoint.traffic-changed").Select(e => e.GetProperty("reason").GetString() ?? "").ToList();
        Assert.Contains(reasons, r => r.StartsWith("AutomaticRollback", StringComparison.Ordinal));
        Assert.Contains(reasons, r => r.StartsWith("Rollback", StringComparison.Ordinal));
        Assert.Empty(portal.PolicyViolations);
    }

    private static async Task AddDeploymentAsync(IPage page, string name, int version)
    {
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Add deployment" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Approved model version").ClickAsync();
        await page.GetByRole(AriaRole.Option, new PageGetByRoleOptions { NameRegex = new($"^credit-risk v{version} ") }).ClickAsync();
        await dialog.GetByLabel("Deployment name").FillAsync(name);
        // Ready sooner than Azure's 10 s initial delay, so the test does not wait it out.
        await dialog.GetByText("Probes (Azure ML's defaults").ClickAsync();
        await dialog.GetByLabel("Readiness: initial delay (s)").FillAsync("1");
        await dialog.GetByLabel("Readiness: period (s)").FillAsync("2");
        if (name == "green")
        {
            await Screenshots.SaveAsync(page, "add-deployment");
        }

        await dialog.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Add deployment" }).ClickAsync();
        await Assertions.Expect(dialog).ToBeHiddenAsync();
    }

    private static async Task StartCanaryAsync(IPage page, string canary, string steps, int bakeSeconds, int latencyFactor)
    {
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Start canary" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Canary deployment").ClickAsync();
        await page.GetByRole(AriaRole.Option, new PageGetByRoleOptions { NameRegex = new($"^{canary} ") }).ClickAsync();
        await dialog.GetByLabel("Steps (%)").FillAsync(steps);
        await dialog.GetByLabel("Bake per step (s)").FillAsync(bakeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await dialog.GetByLabel("Requests needed per step").FillAsync("10");
        await dialog.Locator("#LatencyGate").FillAsync(latencyFactor.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (canary == "flaky")
        {
            await Screenshots.SaveAsync(page, "canary-plan");
        }

        await dialog.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Start canary" }).ClickAsync();
        await Assertions.Expect(dialog).ToBeHiddenAsync();
    }

    /// <summary>The demo's gbm-shallow run (version 3's source), whose model file registers again as a new version.</summary>
    private async Task<string> ShallowRunAsync()
    {
        using var scientist = portal.ApiClient(DemoUsers.Scientist);
        var v3 = await scientist.GetFromJsonAsync<JsonElement>("/api/v1/models/credit-risk/versions/3");
        return v3.GetProperty("sourceRunId").GetString()!;
    }

    /// <summary>Runs the broken sample's training job (docs/samples/sklearn/train_broken.py) and returns its run.</summary>
    private async Task<string> TrainBrokenAsync()
    {
        using var scientist = portal.ApiClient(DemoUsers.Scientist);
        var job = await (await scientist.PostAsJsonAsync("/api/v1/jobs", new
        {
            experiment = "credit-risk-classifier",
            command = "python3 train_broken.py",
            codePath = "sklearn",
            inputs = new { train = "dataset:credit-risk:1" },
        })).Content.ReadFromJsonAsync<JsonElement>();
        var jobId = job.GetProperty("jobId").GetString();
        await WaitAsync(async () => (await scientist.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{jobId}")).GetProperty("status").GetString() is "Completed",
            "the broken sample's training job", TimeSpan.FromMinutes(3));
        return job.GetProperty("runId").GetString()!;
    }

    /// <summary>Registers a version, waits for its checks, asks for approval and has both reviewers approve it.</summary>
    private async Task<int> ApprovedVersionAsync(string runId, string artifactPath)
    {
        using var scientist = portal.ApiClient(DemoUsers.Scientist);
        var registered = await scientist.PostAsJsonAsync("/api/v1/models/credit-risk/versions", new { runId, artifactPath, description = "Ops' canary in the deployments E2E test." });
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        var version = (await registered.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("version").GetInt32();
        await WaitAsync(async () => (await scientist.GetFromJsonAsync<JsonElement>($"/api/v1/models/credit-risk/versions/{version}")).GetProperty("state").GetString() is "Validated",
            $"version {version}'s checks", TimeSpan.FromMinutes(3));
        var request = await (await scientist.PostAsJsonAsync($"/api/v1/models/credit-risk/versions/{version}/approval-requests", new { comment = "For the deployments walkthrough." }))
            .Content.ReadFromJsonAsync<JsonElement>();
        foreach (var reviewer in new[] { DemoUsers.Reviewer, DemoUsers.Reviewer2 })
        {
            using var client = portal.ApiClient(reviewer);
            (await client.PostAsJsonAsync($"/api/v1/approval-requests/{request.GetProperty("id").GetString()}/decisions", new { verdict = "approve", reason = "Checks passed; fine for a canary." }))
                .EnsureSuccessStatusCode();
        }

        return version;
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, $"Waited {timeout.TotalSeconds:0} s for {what}.");
            await Task.Delay(500);
        }
    }
}
