using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Identity;
using Portal.Infrastructure.Models;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>
/// A portal with one trained model (a real scikit-learn job) and relaxed metric thresholds, so versions
/// registered from it pass their checks and the approval workflow can be exercised.
/// </summary>
public sealed class ApprovalsPortal : PortalFactory
{
    private string? _runId;

    /// <summary>Jobs take their code from the test's output folder, where Models/train_model.py is.</summary>
    public ApprovalsPortal() => With("Portal:Jobs:CodeRoot", AppContext.BaseDirectory);

    public HttpClient Scientist => ClientFor("scientist@demo.local");

    public HttpClient Admin => ClientFor("admin@demo.local");

    /// <summary>The run whose outputs/model.pkl the tests register, trained once.</summary>
    public async Task<string> TrainedRunAsync()
    {
        if (_runId is not null)
        {
            return _runId;
        }

        await WaitForDemoDataAsync();
        (await Admin.PutAsJsonAsync("/api/v1/policies/default", new
        {
            policy = new { approvalsRequired = 2, reviewerRole = "RiskReviewer", authorMayApprove = false, requiredChecks = new[] { "data-validation", "required-metrics", "champion-comparison", "slice-metrics" }, expiresAfterDays = 14 },
            checks = new { requiredMetrics = new Dictionary<string, double>(), holdoutDataset = "credit-risk:1", target = "defaulted", metric = "auc", margin = 0.05, sliceColumn = "employment", maxSliceGap = 1.0 },
        })).EnsureSuccessStatusCode();
        // The script travels as the job's code: a job sees its own folder, not the test's.
        var job = await (await Scientist.PostAsJsonAsync("/api/v1/jobs", new { experiment = "approvals-test", command = "python train_model.py", codePath = "Models", inputs = new { train = "dataset:credit-risk:1" } }))
            .JsonAsync(HttpStatusCode.Accepted);
        var jobId = job.GetProperty("jobId").GetString();
        await JobsApiTests.WaitUntilAsync(async () => (await (await Scientist.GetAsync($"/api/v1/jobs/{jobId}")).JsonAsync()).GetProperty("status").GetString() is "Completed" or "Failed", "the training job");
        Assert.Equal("Completed", (await (await Scientist.GetAsync($"/api/v1/jobs/{jobId}")).JsonAsync()).GetProperty("status").GetString());
        return _runId = job.GetProperty("runId").GetString()!;
    }

    /// <summary>Registers a new model's first version as <paramref name="author"/> and waits for its checks.</summary>
    public async Task<(string Name, JsonElement Version)> ValidatedVersionAsync(string author = "scientist@demo.local")
    {
        var runId = await TrainedRunAsync();
        var name = $"m-{Guid.NewGuid():N}"[..14];
        (await (await ClientFor(author).PostAsJsonAsync($"/api/v1/models/{name}/versions", new { runId, artifactPath = "outputs/model.pkl" })).JsonAsync(HttpStatusCode.Created)).ToString();
        return (name, await SettledAsync(name, 1));
    }

    public async Task<JsonElement> SettledAsync(string name, int version)
    {
        JsonElement found = default;
        await JobsApiTests.WaitUntilAsync(async () =>
        {
            found = await (await Scientist.GetAsync($"/api/v1/models/{name}/versions/{version}")).JsonAsync();
            return found.GetProperty("state").GetString() != "Registered";
        }, $"{name} v{version} to finish its checks");
        return found;
    }
}

public class ApprovalsApiTests(ApprovalsPortal portal) : IClassFixture<ApprovalsPortal>
{
    private readonly HttpClient _reviewer = portal.ClientFor("reviewer@demo.local");
    private readonly HttpClient _reviewer2 = portal.ClientFor("reviewer2@demo.local");

    [Fact]
    public async Task AValidatedVersion_IsRequested_ReviewedTwice_AndApproved_WithEveryStepAudited()
    {
        var (name, version) = await portal.ValidatedVersionAsync();
        Assert.Equal("Validated", version.GetProperty("state").GetString());
        var checks = version.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c);
        Assert.Equal(["champion-comparison", "data-validation", "required-metrics", "slice-metrics"], checks.Keys.Order());
        Assert.All(checks.Values, c => Assert.Equal("Passed", c.GetProperty("status").GetString()));
        Assert.Contains("no champion", checks["champion-comparison"].GetProperty("detail").GetString());
        var evaluation = version.GetProperty("evaluation");
        Assert.InRange(evaluation.GetProperty("candidate").GetDouble(), 0.5, 1.0);
        Assert.True(evaluation.GetProperty("slices").GetArrayLength() >= 3);
        Assert.Contains(version.GetProperty("signature").EnumerateArray(), c => c.GetProperty("name").GetString() == "credit_score");
        Assert.DoesNotContain(version.GetProperty("signature").EnumerateArray(), c => c.GetProperty("name").GetString() == "defaulted");

        var request = await (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/approval-requests", new { comment = "Beats nothing yet; first version." }))
            .JsonAsync(HttpStatusCode.Created);
        var id = request.GetProperty("id").GetString();
        Assert.Equal("Open", request.GetProperty("state").GetString());
        Assert.Equal(2, request.GetProperty("policy").GetProperty("approvalsRequired").GetInt32());
        Assert.Equal("PendingApproval", (await portal.SettledAsync(name, 1)).GetProperty("state").GetString());
        var inbox = await (await _reviewer.GetAsync("/api/v1/approval-requests?state=Open")).JsonAsync();
        Assert.Contains(inbox.EnumerateArray(), r => r.GetProperty("id").GetString() == id && r.GetProperty("requestedBy").GetString() == "scientist@demo.local");

        var first = await (await _reviewer.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "Evidence pack complete." })).JsonAsync();
        Assert.Equal("Open", first.GetProperty("state").GetString());
        Assert.Equal(1, first.GetProperty("approvalsGiven").GetInt32());
        await (await _reviewer.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "Again." })).AssertProblemAsync(HttpStatusCode.Conflict);
        var second = await (await _reviewer2.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "Slices are even." })).JsonAsync();

        Assert.Equal("Approved", second.GetProperty("state").GetString());
        Assert.Equal(["reviewer@demo.local", "reviewer2@demo.local"], second.GetProperty("decisions").EnumerateArray().Select(d => d.GetProperty("reviewer").GetString()));
        Assert.Equal("Approved", (await portal.SettledAsync(name, 1)).GetProperty("state").GetString());
        await (await _reviewer.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "reject", reason = "Too late." })).AssertProblemAsync(HttpStatusCode.Conflict);
        var audit = await (await portal.Admin.GetAsync($"/api/v1/audit?entity=model:{name}")).JsonAsync();
        var actions = audit.EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Equal(2, actions.Count(a => a == "approval.decided"));
        Assert.Contains("approval.requested", actions);
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "model.state-changed" && e.GetProperty("after").GetString() == "state=Approved");
        Assert.True((await (await portal.Admin.GetAsync("/api/v1/audit/verify")).JsonAsync()).GetProperty("valid").GetBoolean());

        // Retiring it takes a reason and someone entitled to it.
        await (await portal.ClientFor("viewer@demo.local").PostAsJsonAsync($"/api/v1/models/{name}/versions/1/archive", new { reason = "Old." })).AssertProblemAsync(HttpStatusCode.Forbidden);
        var noReason = await (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/archive", new { reason = "" })).JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(noReason.GetProperty("errors").TryGetProperty("reason", out _));
        var archived = await (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/archive", new { reason = "Superseded before launch." })).JsonAsync();
        Assert.Equal("Archived", archived.GetProperty("state").GetString());
        await (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/archive", new { reason = "Again." })).AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task DecisionsFromTheAuthor_AViewerOrADataScientist_AreRefusedAndAudited_AndBadInputIsNamed()
    {
        // The admin also holds the reviewer role here, so only "nobody approves their own model" stands in the way.
        await portal.Services.GetRequiredService<UserDirectory>().SetRolesAsync(new Actor("admin@demo.local", [Roles.Admin]), "admin@demo.local", [Roles.Admin, Roles.RiskReviewer]);
        var (name, _) = await portal.ValidatedVersionAsync("admin@demo.local");
        var id = (await (await portal.Admin.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/approval-requests", new { })).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();

        var own = await (await portal.Admin.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "Mine is fine." })).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("author", own);
        await (await portal.ClientFor("viewer@demo.local").PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "x" })).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await portal.Scientist.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "x" })).AssertProblemAsync(HttpStatusCode.Forbidden);
        var noReason = await (await _reviewer.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "  " })).JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(noReason.GetProperty("errors").TryGetProperty("reason", out _));
        var badVerdict = await (await _reviewer.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "maybe", reason = "Hmm." })).JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(badVerdict.GetProperty("errors").TryGetProperty("verdict", out _));

        var request = await (await _reviewer.GetAsync($"/api/v1/approval-requests/{id}")).JsonAsync();
        Assert.Equal("Open", request.GetProperty("state").GetString());
        Assert.Equal(0, request.GetProperty("decisions").GetArrayLength());
        var refusals = await (await portal.Admin.GetAsync($"/api/v1/audit?entity=model:{name}&action=security.approval-refused")).JsonAsync();
        Assert.Contains(refusals.EnumerateArray(), e => e.GetProperty("actor").GetString() == "admin@demo.local");
        Assert.Equal(3, refusals.EnumerateArray().Count(e => e.GetProperty("action").GetString() == "security.approval-refused"));
    }

    [Fact]
    public async Task TwoReviewersApprovingAtTheSameInstant_WithOneApprovalLeft_MakeExactlyOneTransition()
    {
        var (name, _) = await portal.ValidatedVersionAsync();
        (await portal.Admin.PutAsJsonAsync($"/api/v1/models/{name}/policy", new
        {
            policy = new { approvalsRequired = 1, reviewerRole = "RiskReviewer", authorMayApprove = false, requiredChecks = Array.Empty<string>(), expiresAfterDays = 14 },
        })).EnsureSuccessStatusCode();
        var id = (await (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/approval-requests", new { })).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();

        var responses = await Task.WhenAll(
            _reviewer.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "One." }),
            _reviewer2.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "Two." }));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
        var request = await (await _reviewer.GetAsync($"/api/v1/approval-requests/{id}")).JsonAsync();
        Assert.Equal("Approved", request.GetProperty("state").GetString());
        Assert.Equal(1, request.GetProperty("decisions").GetArrayLength());
        var audit = await (await portal.Admin.GetAsync($"/api/v1/audit?entity=model:{name}")).JsonAsync();
        Assert.Single(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "approval.decided");
        Assert.Single(audit.EnumerateArray(), e => e.GetProperty("after").GetString() == "state=Approved");

        // The losing save must not keep the trail locked: the next audited change goes through at once.
        var next = await portal.Admin.PutAsJsonAsync($"/api/v1/models/{name}/policy", new { }).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task DecidingAfterTheArtifactChanged_OrAfterExpiry_Is409_AndReturnsTheVersionToValidated()
    {
        var (name, version) = await portal.ValidatedVersionAsync();
        var id = (await (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/approval-requests", new { })).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();
        // Someone replaces the run's model file after approval was asked for (put back afterwards: other tests register it).
        var artifacts = portal.Services.GetRequiredService<RunArtifacts>();
        var runId = version.GetProperty("sourceRunId").GetString()!;
        var original = new MemoryStream();
        await using (var content = (await artifacts.OpenAsync(runId, "outputs/model.pkl", CancellationToken.None))!.Value.Content)
        {
            await content.CopyToAsync(original);
        }

        string voided;
        try
        {
            await artifacts.PutAsync(runId, "outputs/model.pkl", new MemoryStream([1, 2, 3]), CancellationToken.None);
            voided = await (await _reviewer.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "Looks fine." })).AssertProblemAsync(HttpStatusCode.Conflict);
        }
        finally
        {
            original.Position = 0;
            await artifacts.PutAsync(runId, "outputs/model.pkl", original, CancellationToken.None);
        }

        Assert.Contains("void", voided);
        Assert.Equal("Void", (await (await _reviewer.GetAsync($"/api/v1/approval-requests/{id}")).JsonAsync()).GetProperty("state").GetString());
        var back = await portal.SettledAsync(name, 1);
        Assert.Equal("Validated", back.GetProperty("state").GetString());
        Assert.Contains("artifact changed", back.GetProperty("stateReason").GetString());

        var (other, _) = await portal.ValidatedVersionAsync();
        var late = (await (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{other}/versions/1/approval-requests", new { })).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();
        portal.Time.Advance(TimeSpan.FromDays(15));
        var expired = await (await _reviewer.PostAsJsonAsync($"/api/v1/approval-requests/{late}/decisions", new { verdict = "approve", reason = "Finally." })).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("expired", expired);
        Assert.Equal("Validated", (await portal.SettledAsync(other, 1)).GetProperty("state").GetString());

        // Nobody has to try: the registry's sweep closes requests past their time on its own.
        var (third, _) = await portal.ValidatedVersionAsync();
        var forgotten = (await (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{third}/versions/1/approval-requests", new { })).JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();
        portal.Time.Advance(TimeSpan.FromDays(15));
        Assert.True(await portal.Services.GetRequiredService<Approvals>().ExpireDueAsync(CancellationToken.None) >= 1);
        Assert.Equal("Expired", (await (await _reviewer.GetAsync($"/api/v1/approval-requests/{forgotten}")).JsonAsync()).GetProperty("state").GetString());
        Assert.Equal("Validated", (await portal.SettledAsync(third, 1)).GetProperty("state").GetString());
        var expiredList = await (await _reviewer.GetAsync("/api/v1/approval-requests?state=Expired")).JsonAsync();
        Assert.Contains(expiredList.EnumerateArray(), r => r.GetProperty("id").GetString() == forgotten);
    }

    [Fact]
    public async Task AModelsOwnChecks_FailAVersionMissingARequiredMetric_NamingIt()
    {
        var (name, version) = await portal.ValidatedVersionAsync();
        var policy = await portal.Admin.PutAsJsonAsync($"/api/v1/models/{name}/policy", new
        {
            checks = new { requiredMetrics = new Dictionary<string, double> { ["val_auc"] = 0.6 }, holdoutDataset = "credit-risk:1", target = "defaulted", metric = "auc", margin = 0.05, sliceColumn = "", maxSliceGap = 0.1 },
        });
        Assert.True((await policy.JsonAsync()).GetProperty("ownChecks").GetBoolean());
        (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions", new { runId = version.GetProperty("sourceRunId").GetString(), artifactPath = "outputs/model.pkl" })).EnsureSuccessStatusCode();

        var second = await portal.SettledAsync(name, 2);

        Assert.Equal("Failed", second.GetProperty("state").GetString());
        Assert.Contains("val_auc is missing", second.GetProperty("stateReason").GetString());
        var champion = second.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "champion-comparison");
        Assert.Equal("Passed", champion.GetProperty("status").GetString());
        Assert.Contains("no champion", champion.GetProperty("detail").GetString());
        await (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions/2/approval-requests", new { })).AssertProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task TheHoldout_IsTheNewestVersionThatPassedValidation_AndAPinnedFailedVersionFailsTheChecks()
    {
        // The demo's credit-risk v2 breaks its contract; v1 passed.
        var (name, version) = await portal.ValidatedVersionAsync();
        var runId = version.GetProperty("sourceRunId").GetString();
        async Task<JsonElement> RegisterWithHoldoutAsync(string holdout, int number)
        {
            (await portal.Admin.PutAsJsonAsync($"/api/v1/models/{name}/policy", new
            {
                checks = new { requiredMetrics = new Dictionary<string, double>(), holdoutDataset = holdout, target = "defaulted", metric = "auc", margin = 0.05, sliceColumn = "", maxSliceGap = 1.0 },
            })).EnsureSuccessStatusCode();
            (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions", new { runId, artifactPath = "outputs/model.pkl" })).EnsureSuccessStatusCode();
            var settled = await portal.SettledAsync(name, number);
            return settled.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "champion-comparison");
        }

        var pinnedFailed = await RegisterWithHoldoutAsync("credit-risk:2", 2);
        Assert.Equal("Failed", pinnedFailed.GetProperty("status").GetString());
        Assert.Contains("dataset:credit-risk:2 failed its data contract", pinnedFailed.GetProperty("detail").GetString());

        var newestPassed = await RegisterWithHoldoutAsync("credit-risk", 3);
        Assert.Equal("Passed", newestPassed.GetProperty("status").GetString());
        Assert.Contains("on dataset:credit-risk:1 (", newestPassed.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task TheInboxWaitingForAReviewer_LeavesOutTheirOwnRequests_AndThoseTheyDecided()
    {
        var (name, _) = await portal.ValidatedVersionAsync();
        var id = (await (await portal.Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/approval-requests", new { comment = "Please." }))
            .JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();
        var packs = portal.Services.GetRequiredService<EvidencePacks>();
        async Task<bool> WaitsFor(Actor who) =>
            (await packs.InboxAsync(new ApprovalQuery(Portal.Domain.Models.ApprovalState.Open, Model: name, Take: 50, DecidableBy: who), CancellationToken.None))
                .Rows.Any(r => r.Request.Id.ToString() == id);
        var reviewer = new Actor("reviewer@demo.local", [Roles.RiskReviewer]);
        var reviewer2 = new Actor("reviewer2@demo.local", [Roles.RiskReviewer]);
        // The author holding the reviewer role as well must still not find their own request waiting for them.
        var author = new Actor("scientist@demo.local", [Roles.DataScientist, Roles.RiskReviewer]);

        Assert.True(await WaitsFor(reviewer));
        Assert.False(await WaitsFor(author));
        (await _reviewer.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "Fine." })).EnsureSuccessStatusCode();
        Assert.False(await WaitsFor(reviewer));
        Assert.True(await WaitsFor(reviewer2));
        var all = await packs.InboxAsync(new ApprovalQuery(Portal.Domain.Models.ApprovalState.Open, Model: name), CancellationToken.None);
        Assert.Equal(1, all.Total);
    }

    [Fact]
    public async Task APersonsJobs_AreNamedByRunAndExperiment_AndLeaveOutTheRegistrysEvaluations()
    {
        var (_, version) = await portal.ValidatedVersionAsync();
        var jobs = portal.Services.GetRequiredService<Portal.Infrastructure.Jobs.JobService>();
        var evaluationRun = version.GetProperty("evaluation").GetProperty("runId").GetString();

        var mine = await jobs.MineAsync("scientist@demo.local", 50, CancellationToken.None);

        Assert.Contains(mine, j => j.ExperimentName == "approvals-test" && j.Job.RunId == version.GetProperty("sourceRunId").GetString());
        Assert.DoesNotContain(mine, j => j.Job.IsSystem || j.Job.RunId == evaluationRun);
        Assert.True((await jobs.FindByRunAsync(evaluationRun!, CancellationToken.None))!.IsSystem);
    }

    [Fact]
    public async Task Policies_AreAdminOnly_AndBadOnesAreNamed()
    {
        var body = new
        {
            policy = new { approvalsRequired = 0, reviewerRole = "RiskReviewer", authorMayApprove = false, requiredChecks = Array.Empty<string>(), expiresAfterDays = 14 },
            checks = new { requiredMetrics = new Dictionary<string, double>(), holdoutDataset = "credit-risk", target = "defaulted", metric = "auc", margin = 0.02, sliceColumn = "", maxSliceGap = 0.1 },
        };
        await (await portal.Scientist.PutAsJsonAsync("/api/v1/policies/default", body)).AssertProblemAsync(HttpStatusCode.Forbidden);
        var problem = await (await portal.Admin.PutAsJsonAsync("/api/v1/policies/default", body)).JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("approvalsRequired", out _), problem.ToString());
        var unknownCheck = await (await portal.Admin.PutAsJsonAsync("/api/v1/policies/default", new
        {
            policy = new { approvalsRequired = 2, reviewerRole = "RiskReviewer", authorMayApprove = false, requiredChecks = new[] { "gut-feeling" }, expiresAfterDays = 14 },
            body.checks,
        })).JsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("gut-feeling", unknownCheck.GetProperty("errors").GetProperty("requiredChecks")[0].GetString());
        Assert.Equal(2, (await (await portal.Scientist.GetAsync("/api/v1/policies/default")).JsonAsync()).GetProperty("policy").GetProperty("approvalsRequired").GetInt32());
    }
}
