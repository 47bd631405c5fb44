using System.Net;
using System.Net.Http.Json;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Identity;
using Portal.Infrastructure.Jobs;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>
/// A job or sweep is its submitter's to stop, and any administrator's; the portal's own jobs (a model
/// version's evaluation) only an administrator's. Everyone else gets a 403 saying why.
/// </summary>
public class CancelOwnershipTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private readonly HttpClient _owner = portal.ClientFor("scientist@demo.local");
    private readonly HttpClient _admin = portal.ClientFor("admin@demo.local");

    [Fact]
    public async Task AnotherDataScientist_CannotCancelYourJob_ButAnAdministratorCan()
    {
        var colleague = await ColleagueAsync();
        var jobId = (await (await _owner.PostAsJsonAsync("/api/v1/jobs", new { experiment = "ownership", command = "sleep 30" })).JsonAsync(HttpStatusCode.Accepted))
            .GetProperty("jobId").GetString();

        var refused = await colleague.PostAsync($"/api/v1/jobs/{jobId}/cancel", null);

        var detail = await refused.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("submitted by scientist@demo.local", detail);
        Assert.NotEqual("Canceled", (await (await _owner.GetAsync($"/api/v1/jobs/{jobId}")).JsonAsync()).GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync($"/api/v1/jobs/{jobId}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task AnotherDataScientist_CannotCancelYourSweep()
    {
        var colleague = await ColleagueAsync();
        var sweepId = (await (await _owner.PostAsJsonAsync("/api/v1/sweeps", new
        {
            experiment = "ownership", command = "sleep 20", strategy = "grid",
            space = new Dictionary<string, object> { ["depth"] = new[] { 2, 3 } }, objective = "auc", maxConcurrent = 1,
        })).JsonAsync(HttpStatusCode.Created)).GetProperty("sweepId").GetString();

        var detail = await (await colleague.PostAsync($"/api/v1/sweeps/{sweepId}/cancel", null)).AssertProblemAsync(HttpStatusCode.Forbidden);

        Assert.Contains("started by scientist@demo.local", detail);
        Assert.Equal(HttpStatusCode.OK, (await _owner.PostAsync($"/api/v1/sweeps/{sweepId}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task ThePortalsOwnJobs_AreOnlyAnAdministratorsToCancel()
    {
        var tools = Path.Combine(portal.DataDirectory, "tools", "ownership");
        Directory.CreateDirectory(tools);
        var job = await portal.Services.GetRequiredService<JobService>().SubmitAsync(
            new JobRequest("ownership", "sleep 30") { SystemCode = tools }, new Actor("scientist@demo.local", [Roles.DataScientist]), CancellationToken.None);

        var detail = await (await _owner.PostAsync($"/api/v1/jobs/{job.Id}/cancel", null)).AssertProblemAsync(HttpStatusCode.Forbidden);

        Assert.Contains("the portal's own", detail);
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync($"/api/v1/jobs/{job.Id}/cancel", null)).StatusCode);
    }

    private async Task<HttpClient> ColleagueAsync()
    {
        var email = $"ds-{Guid.NewGuid():N}"[..11] + "@demo.local";
        var errors = await portal.Services.GetRequiredService<UserDirectory>().CreateAsync(new Actor("admin@demo.local", [Roles.Admin]),
            new NewUser { Email = email, Password = PortalFactory.DemoPassword, Roles = [Roles.DataScientist] });
        Assert.True(errors.IsEmpty, errors.ToString());
        return portal.ClientFor(email);
    }
}
