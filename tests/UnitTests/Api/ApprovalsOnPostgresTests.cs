using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Identity;
using Portal.Infrastructure.Persistence;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>The approval workflow through the API with PostgreSQL as the portal's database (the server option).</summary>
[Collection(PostgresCollection.Name)]
public sealed class ApprovalsOnPostgresTests(PostgresServer postgres) : IAsyncLifetime
{
    private ApprovalsPortal _portal = null!;

    public async Task InitializeAsync()
    {
        _portal = new ApprovalsPortal();
        _portal.With("Database:Provider", "PostgreSQL").With("Database:ConnectionString", await postgres.CreateDatabaseAsync());
    }

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task ARequestIsApprovedOnPostgres_AndTwoReviewersRacingForTheLastApproval_MakeOneTransition()
    {
        await using (var db = await _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            Assert.IsType<PostgresPortalDbContext>(db);
        }

        // A third reviewer: the admin also holds the reviewer role.
        await _portal.Services.GetRequiredService<UserDirectory>().SetRolesAsync(new Actor("admin@demo.local", [Roles.Admin]), "admin@demo.local", [Roles.Admin, Roles.RiskReviewer]);
        var (name, version) = await _portal.ValidatedVersionAsync();
        Assert.Equal("Validated", version.GetProperty("state").GetString());
        var id = (await (await _portal.Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/approval-requests", new { comment = "First version." }))
            .JsonAsync(HttpStatusCode.Created)).GetProperty("id").GetString();
        var first = await (await _portal.ClientFor("reviewer@demo.local").PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "Evidence complete." })).JsonAsync();
        Assert.Equal(1, first.GetProperty("approvalsGiven").GetInt32());

        var responses = await Task.WhenAll(
            _portal.ClientFor("reviewer2@demo.local").PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "Two." }),
            _portal.Admin.PostAsJsonAsync($"/api/v1/approval-requests/{id}/decisions", new { verdict = "approve", reason = "Three." }));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
        var request = await (await _portal.Scientist.GetAsync($"/api/v1/approval-requests/{id}")).JsonAsync();
        Assert.Equal("Approved", request.GetProperty("state").GetString());
        Assert.Equal(2, request.GetProperty("decisions").GetArrayLength());
        Assert.Equal("Approved", (await _portal.SettledAsync(name, 1)).GetProperty("state").GetString());
        var audit = await (await _portal.Admin.GetAsync($"/api/v1/audit?entity=model:{name}")).JsonAsync();
        Assert.Equal(2, audit.EnumerateArray().Count(e => e.GetProperty("action").GetString() == "approval.decided"));
        Assert.Single(audit.EnumerateArray(), e => e.GetProperty("after").GetString() == "state=Approved");
        Assert.True((await (await _portal.Admin.GetAsync("/api/v1/audit/verify")).JsonAsync()).GetProperty("valid").GetBoolean());
    }
}
