using System.Net.Http.Json;
using System.Text.Json;
using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

/// <summary>The portal's Content-Security-Policy is one its own pages really satisfy, charts and diagrams included.</summary>
[Collection(PortalCollection.Name)]
public class SecurityTests(PortalServer portal)
{
    [Fact]
    public async Task EveryArea_RendersUnderTheContentSecurityPolicy_WithoutAViolation()
    {
        var api = portal.ApiClient(DemoUsers.Admin);
        var runs = await api.PostAsJsonAsync("/api/2.0/mlflow/runs/search", new { experiment_ids = new[] { await ExperimentIdAsync(api, "credit-risk-classifier") }, max_results = 2 });
        var runIds = (await runs.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runs").EnumerateArray()
            .Select(r => r.GetProperty("info").GetProperty("run_id").GetString()!).ToList();
        var experiment = await ExperimentIdAsync(api, "credit-risk-classifier");
        string[] paths =
        [
            "/", "/datasets", "/datasets/credit-risk", "/datasets/credit-risk/versions/1", "/datasets/credit-risk/compare?a=1&b=2",
            $"/experiments/{experiment}", $"/runs/{runIds[0]}", $"/experiments/compare?runs={string.Join(",", runIds)}",
            "/jobs", "/models", "/models/credit-risk", "/models/credit-risk/versions/1", "/reviews", "/lineage?artifact=dataset%3Acredit-risk%3A1",
            "/audit", "/admin", "/account/tokens",
        ];
        await using var context = await portal.ContextAsAsync(DemoUsers.Admin);
        var page = await context.NewPageAsync();
        var before = portal.PolicyViolations.Count;

        foreach (var path in paths)
        {
            var response = await page.GotoAsync(path);
            Assert.Contains("script-src 'self' 'nonce-", (await response!.AllHeadersAsync())["content-security-policy"]);
            await new ShellPage(page).WaitForInteractiveAsync();
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        }

        // Charts draw a moment after the data arrives.
        await page.GotoAsync($"/runs/{runIds[0]}");
        await Assertions.Expect(page.Locator(".js-plotly-plot").First).ToBeVisibleAsync();
        var violations = portal.PolicyViolations.Skip(before).ToList();
        Assert.True(violations.Count == 0, "The pages broke their Content-Security-Policy:\n" + string.Join("\n", violations));
    }

    private static async Task<string> ExperimentIdAsync(HttpClient api, string name) =>
        (await api.GetFromJsonAsync<JsonElement>($"/api/2.0/mlflow/experiments/get-by-name?experiment_name={name}"))
            .GetProperty("experiment").GetProperty("experiment_id").GetString()!;
}
