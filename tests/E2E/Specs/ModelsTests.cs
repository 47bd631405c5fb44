using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class ModelsTests(PortalServer portal)
{
    [Fact]
    public async Task ReviewerApprovesTheDemoCandidate_ASecondReviewerCompletesThePolicy_AndTheAuthorSeesItLive()
    {
        // The author watches the version page.
        await using var authorContext = await portal.ContextAsAsync(DemoUsers.Scientist);
        var authorPage = await authorContext.NewPageAsync();
        var author = new ShellPage(authorPage);
        await author.GotoAsync("/models/credit-risk/versions/3");
        await Assertions.Expect(author.Heading.Locator("[data-state]")).ToHaveAttributeAsync("data-state", "PendingApproval");

        // The first reviewer starts from home, goes through the inbox and reads the evidence pack.
        await using var reviewerContext = await portal.ContextAsAsync(DemoUsers.Reviewer);
        var page = await reviewerContext.NewPageAsync();
        var reviewer = new ShellPage(page);
        await reviewer.GotoAsync("/");
        await Assertions.Expect(page.GetByRole(AriaRole.List, new PageGetByRoleOptions { Name = "Reviews waiting for you" })).ToContainTextAsync("credit-risk v3");
        await reviewer.Navigation.GetByText("Reviews").ClickAsync();
        await page.WaitForURLAsync("**/reviews");
        var inbox = page.GetByLabel("Approval requests", new PageGetByLabelOptions { Exact = true });
        await Assertions.Expect(inbox).ToContainTextAsync("scientist@demo.local");
        await Screenshots.SaveAsync(page, "reviewer-inbox");
        await inbox.GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = "credit-risk v3" }).ClickAsync();

        await page.WaitForURLAsync("**/reviews/*");
        await Assertions.Expect(reviewer.Heading).ToContainTextAsync("credit-risk version 3");
        await Assertions.Expect(page.GetByLabel("Requester's comment")).ToContainTextAsync("Shallower trees");
        await Assertions.Expect(page.Locator("[data-check][data-status=Passed]")).ToHaveCountAsync(4);
        await Assertions.Expect(page.Locator("[data-check=champion-comparison]")).ToContainTextAsync("credit-risk version 1");
        var chart = page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { NameRegex = new("^auc of the candidate and the champion") });
        await Assertions.Expect(chart).ToHaveAttributeAsync("data-rendered", "true", new() { Timeout = 15_000 });
        await Screenshots.SaveAsync(page, "review-evidence");
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Model card" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("model-card")).ToContainTextAsync("Ranks consumer loan applications");
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Data validation" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Training data")).ToContainTextAsync("dataset:credit-risk:1");
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Lineage" }).ClickAsync();
        await Screenshots.SaveAsync(page, "review-lineage");

        // A decision needs a reason.
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Approve" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Confirm approval" }).ClickAsync();
        await Assertions.Expect(dialog.GetByRole(AriaRole.Alert)).ToContainTextAsync("say why you approve or reject");
        await dialog.GetByLabel("Reason").FillAsync("Beats production on October data; slices within policy.");
        await Screenshots.SaveAsync(page, "review-approve-dialog");
        await dialog.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Confirm approval" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("decision-message")).ToContainTextAsync("Your approval is recorded (1 of 2)");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Approve" })).ToBeDisabledAsync();
        await Assertions.Expect(page.GetByTestId("why-not")).ToContainTextAsync("already decided");
        await Assertions.Expect(author.Toasts.Filter(new() { HasText = "reviewer@demo.local approved credit-risk version 3 (1 of 2)" })).ToBeVisibleAsync();

        // The second reviewer completes the policy.
        await using var secondContext = await portal.ContextAsAsync(DemoUsers.Reviewer2);
        var second = await secondContext.NewPageAsync();
        await new ShellPage(second).GotoAsync(new Uri(page.Url).AbsolutePath);
        await Assertions.Expect(second.GetByTestId("approvals")).ToHaveTextAsync("1 of 2 approvals");
        await second.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Approve" }).ClickAsync();
        await second.GetByRole(AriaRole.Dialog).GetByLabel("Reason").FillAsync("Second review: card, lineage and slices checked.");
        await second.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Confirm approval" }).ClickAsync();
        await Assertions.Expect(second.GetByTestId("request-state")).ToHaveTextAsync("Approved");

        // The author sees it without reloading; the first reviewer's page follows too.
        await Assertions.Expect(author.Toasts.Filter(new() { HasText = "the policy is met (2 of 2)" })).ToBeVisibleAsync();
        await Assertions.Expect(author.Heading.Locator("[data-state]")).ToHaveAttributeAsync("data-state", "Approved");
        await Assertions.Expect(page.GetByTestId("request-state")).ToHaveTextAsync("Approved");
        await Screenshots.SaveAsync(authorPage, "version-approved-live");
        using var admin = portal.ApiClient(DemoUsers.Admin);
        var verification = await admin.GetFromJsonAsync<JsonElement>("/api/v1/audit/verify");
        Assert.True(verification.GetProperty("valid").GetBoolean(), verification.ToString());
        var trail = await admin.GetFromJsonAsync<JsonElement>("/api/v1/audit?entity=model:credit-risk:3&action=approval.");
        Assert.Equal(["reviewer2@demo.local", "reviewer@demo.local"], trail.EnumerateArray().Where(e => e.GetProperty("action").GetString() == "approval.decided")
            .Select(e => e.GetProperty("actor").GetString()).Order(StringComparer.Ordinal));

        // The models list (filtered on the server) leads to the model's timeline: who approved what, what is in production.
        await author.GotoAsync("/models");
        var models = authorPage.GetByLabel("Registered models", new PageGetByLabelOptions { Exact = true });
        await authorPage.GetByLabel("Name contains").FillAsync("credit-ri");
        await authorPage.GetByLabel("Name contains").PressAsync("Enter");
        await Assertions.Expect(models.Locator("tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(models.Locator("tbody tr")).ToContainTextAsync("v1");
        await Screenshots.SaveAsync(authorPage, "models-list");
        await models.GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = "credit-risk", Exact = true }).ClickAsync();
        await authorPage.WaitForURLAsync("**/models/credit-risk");
        var timeline = authorPage.GetByLabel("Versions timeline");
        await Assertions.Expect(timeline.Locator("[data-version='3']")).ToContainTextAsync("reviewer2@demo.local approved");
        await Assertions.Expect(timeline.Locator("[data-version='2']")).ToContainTextAsync("Rejected");
        await Assertions.Expect(authorPage.GetByTestId("production")).ToContainTextAsync("v1");
        await Screenshots.SaveAsync(authorPage, "model-timeline");
    }

    [Fact]
    public async Task TheAuthorCannotApproveTheirOwnVersion_InThePageOrThroughTheApi_AndTheAttemptIsAudited()
    {
        // An administrator authors a version under a policy whose reviewers are administrators.
        using var api = portal.ApiClient(DemoUsers.Admin);
        var source = await api.GetFromJsonAsync<JsonElement>("/api/v1/models/credit-risk/versions/2");
        var name = $"e2e-self-{Guid.NewGuid():N}"[..16];
        (await api.PostAsJsonAsync($"/api/v1/models/{name}/versions", new { runId = source.GetProperty("sourceRunId").GetString(), artifactPath = "outputs/model.pkl" })).EnsureSuccessStatusCode();
        (await api.PutAsJsonAsync($"/api/v1/models/{name}/policy", new
        {
            policy = new { approvalsRequired = 1, reviewerRole = "Admin", authorMayApprove = false, requiredChecks = Array.Empty<string>(), expiresAfterDays = 7 },
        })).EnsureSuccessStatusCode();
        await WaitForStateAsync(api, name, 1, "Validated");
        var request = await (await api.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/approval-requests", new { comment = "Please approve." })).Content.ReadFromJsonAsync<JsonElement>();
        var id = request.GetProperty("id").GetString();

        await using var context = await portal.ContextAsAsync(DemoUsers.Admin);
        var page = await context.NewPageAsync();
        await new ShellPage(page).GotoAsync($"/reviews/{id}");
        await Assertions.Expect(page.GetByTestId("why-not")).ToContainTextAsync($"You are the author of {name} version 1");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Approve" })).ToBeDisabledAsync();
        await Screenshots.SaveAsync(page, "review-self-approval-refused");

        var refused = await api.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "It is mine and it is fine." });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);

        await new ShellPage(page).GotoAsync($"/audit?entity=model:{name}");
        await Assertions.Expect(page.GetByRole(AriaRole.Table).First).ToContainTextAsync("security.approval-refused");
        var state = await api.GetFromJsonAsync<JsonElement>($"/api/v1/approval-requests/{id}");
        Assert.Equal("Open", state.GetProperty("state").GetString());

        // Where the policy that decides all this is kept.
        await new ShellPage(page).GotoAsync("/admin");
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Approval policies" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Approvals required")).ToHaveValueAsync("2");
        await Assertions.Expect(page.GetByLabel("Holdout dataset (name or name:version)")).ToHaveValueAsync("credit-risk-holdout");
        await Screenshots.SaveAsync(page, "admin-policies");
    }

    [Fact]
    public async Task AScientistRegistersAModelFromARun_WatchesItsChecksPass_WritesASafeModelCard_AndAsksForApproval()
    {
        using var api = portal.ApiClient(DemoUsers.Scientist);
        var source = await api.GetFromJsonAsync<JsonElement>("/api/v1/models/credit-risk/versions/3");
        var name = $"e2e-ui-{Guid.NewGuid():N}"[..14];
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);
        await shell.GotoAsync($"/runs/{source.GetProperty("sourceRunId").GetString()}");

        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Register model" }).ClickAsync();
        var dialog = page.GetByRole(AriaRole.Dialog);
        await dialog.GetByLabel("Model name").FillAsync(name);
        await dialog.GetByLabel("Description").FillAsync("Shallow gradient boosting for the loan desk.");
        await Screenshots.SaveAsync(page, "register-model");
        await dialog.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Register" }).ClickAsync();

        try
        {
            await page.WaitForURLAsync($"**/models/{name}/versions/1");
        }
        catch (TimeoutException)
        {
            // Say what the dialog said instead of only that nothing happened.
            throw new Xunit.Sdk.XunitException($"Registering did not open the version; the page says: {await page.Locator("body").InnerTextAsync()}");
        }
        var state = shell.Heading.Locator("[data-state]");
        // The holdout evaluation is a real job; the page follows it without a reload.
        await Assertions.Expect(state).ToHaveAttributeAsync("data-state", "Validated", new() { Timeout = 60_000 });
        await Assertions.Expect(page.Locator("[data-check][data-status=Passed]")).ToHaveCountAsync(4);
        await Screenshots.SaveAsync(page, "version-checks");

        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Edit model card" }).ClickAsync();
        var card = page.GetByRole(AriaRole.Dialog);
        await card.GetByLabel("Intended use").FillAsync("Ranks **loan applications**. <script>window.pwned = true</script><img src=x onerror=\"window.pwned = true\">");
        await card.GetByLabel("Limitations").FillAsync("Not for automatic rejection.");
        await card.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Save card" }).ClickAsync();
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Model card" }).ClickAsync();
        var rendered = page.GetByTestId("model-card");
        await Assertions.Expect(rendered).ToContainTextAsync("<script>window.pwned = true</script>");
        await Assertions.Expect(rendered.Locator("strong")).ToHaveTextAsync("loan applications");
        await Assertions.Expect(rendered.Locator("script, img")).ToHaveCountAsync(0);
        Assert.True(await page.EvaluateAsync<bool>("() => window.pwned === undefined"));
        await Screenshots.SaveAsync(page, "model-card");

        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Request approval" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByLabel("Comment for the reviewers").FillAsync("Registered from the browser.");
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Send for approval" }).ClickAsync();
        await Assertions.Expect(state).ToHaveAttributeAsync("data-state", "PendingApproval");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Edit model card" })).ToHaveCountAsync(0);
    }

    private static async Task WaitForStateAsync(HttpClient api, string name, int version, string wanted)
    {
        var until = DateTime.UtcNow.AddSeconds(90);
        var state = "";
        while (DateTime.UtcNow < until)
        {
            state = (await api.GetFromJsonAsync<JsonElement>($"/api/v1/models/{name}/versions/{version}")).GetProperty("state").GetString()!;
            if (state == wanted)
            {
                return;
            }

            await Task.Delay(500);
        }

        Assert.Fail($"{name} v{version} stayed {state}, not {wanted}.");
    }
}
