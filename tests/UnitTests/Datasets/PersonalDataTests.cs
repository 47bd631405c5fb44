using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Portal.UnitTests.Api;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Datasets;

/// <summary>
/// The demo's credit-risk data holds e-mail addresses. Everyone who may open Datasets sees them masked;
/// the original bytes — the file, and the files and log of a run that read it — go only to data scientists
/// and administrators, and every raw download and refusal is in the audit trail.
/// </summary>
public class PersonalDataTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private readonly HttpClient _viewer = portal.ClientFor("viewer@demo.local");
    private readonly HttpClient _reviewer = portal.ClientFor("reviewer@demo.local");
    private readonly HttpClient _scientist = portal.ClientFor("scientist@demo.local");
    private readonly HttpClient _admin = portal.ClientFor("admin@demo.local");

    [Fact]
    public async Task TheOriginalFile_OfAVersionWithPersonalData_IsForDataScientistsAndAdmins_AndEachDownloadIsAudited()
    {
        await portal.WaitForDemoDataAsync();

        foreach (var refused in new[] { _viewer, _reviewer })
        {
            var detail = await (await refused.GetAsync("/api/v1/datasets/credit-risk/versions/1/content")).AssertProblemAsync(HttpStatusCode.Forbidden);
            Assert.Contains("email", detail);
        }

        var raw = await _scientist.GetStringAsync("/api/v1/datasets/credit-risk/versions/1/content");
        Assert.Contains("@mail.example", raw);
        Assert.Equal(HttpStatusCode.OK, (await _admin.GetAsync("/api/v1/datasets/credit-risk/versions/1/content")).StatusCode);

        var trail = (await (await _admin.GetAsync("/api/v1/audit?entity=dataset:credit-risk:1&pageSize=100")).JsonAsync()).EnumerateArray().ToList();
        Assert.Contains(trail, e => e.GetProperty("action").GetString() == "dataset.raw-downloaded" && e.GetProperty("actor").GetString() == "scientist@demo.local");
        Assert.Contains(trail, e => e.GetProperty("action").GetString() == "security.raw-data-refused" && e.GetProperty("actor").GetString() == "viewer@demo.local");
    }

    [Fact]
    public async Task WhatAViewerCanRead_ShowsNoPersonalData()
    {
        await portal.WaitForDemoDataAsync();

        var version = await _viewer.GetStringAsync("/api/v1/datasets/credit-risk/versions/1");
        var preview = await _viewer.GetStringAsync("/api/v1/datasets/credit-risk/versions/1/preview.csv");
        var validation = await _viewer.GetStringAsync("/api/v1/datasets/credit-risk/versions/2/validation.csv");

        foreach (var text in new[] { version, preview, validation })
        {
            Assert.DoesNotContain("@mail.example", text);
        }

        Assert.Contains("•••", preview);
        var email = JsonDocument.Parse(version).RootElement.GetProperty("profile").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "email");
        Assert.Equal(0, email.GetProperty("topValues").GetArrayLength());
    }

    [Fact]
    public async Task AVersionWithoutPersonalData_CanBeDownloadedByAViewer()
    {
        var name = $"plain-{Guid.NewGuid():N}"[..14];
        using var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes("a,b\n1,2\n3,4\n")), "file", "plain.csv" } };
        (await _scientist.PostAsync($"/api/v1/datasets/{name}/versions", form)).EnsureSuccessStatusCode();

        Assert.Equal("a,b\n1,2\n3,4\n", await _viewer.GetStringAsync($"/api/v1/datasets/{name}/versions/1/content"));
    }

    [Fact]
    public async Task TheFilesAndLogOfARunThatReadPersonalData_AreRefusedLikeTheFile()
    {
        await portal.WaitForDemoDataAsync();
        var submitted = await (await _scientist.PostAsJsonAsync("/api/v1/jobs", new
        {
            experiment = "personal-data",
            command = "cp \"$INPUT_TRAIN\" outputs/copy.csv; head -3 \"$INPUT_TRAIN\"",
            inputs = new { train = "dataset:credit-risk:1" },
        })).JsonAsync(HttpStatusCode.Accepted);
        var jobId = submitted.GetProperty("jobId").GetString()!;
        var runId = submitted.GetProperty("runId").GetString()!;
        await JobsApiTests.WaitUntilAsync(async () => (await (await _scientist.GetAsync($"/api/v1/jobs/{jobId}")).JsonAsync()).GetProperty("status").GetString() == "Completed", "the copying job");
        var experimentId = (await (await _scientist.GetAsync($"/api/v1/runs/{runId}")).JsonAsync()).GetProperty("experimentId").GetString();

        Assert.Contains("@mail.example", await _scientist.GetStringAsync($"/api/v1/runs/{runId}/artifacts/outputs/copy.csv"));
        Assert.Contains("@mail.example", await _scientist.GetStringAsync($"/api/v1/jobs/{jobId}/logs"));
        foreach (var url in new[]
        {
            $"/api/v1/runs/{runId}/artifacts/outputs/copy.csv", $"/api/v1/runs/{runId}/artifacts/logs/job.log", $"/api/v1/jobs/{jobId}/logs",
            $"/api/2.0/mlflow-artifacts/artifacts/{experimentId}/{runId}/artifacts/outputs/copy.csv",
        })
        {
            var response = await _viewer.GetAsync(url);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.DoesNotContain("@mail.example", await response.Content.ReadAsStringAsync());
        }

        // The listing stays: which files exist is not personal data.
        Assert.Equal(HttpStatusCode.OK, (await _viewer.GetAsync($"/api/v1/runs/{runId}/artifacts")).StatusCode);
    }
}
