using System.Net;
using Microsoft.EntityFrameworkCore;
using Portal.Infrastructure.Persistence;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

public class AuditApiTests : IDisposable
{
    private readonly PortalFactory _portal = new();

    [Fact]
    public async Task Search_IsNewestFirst_Paged_AndFiltersByEntityPrefix()
    {
        await _portal.ClientFor("nobody@demo.local", "x").GetAsync("/api/v1/me");
        var client = _portal.ClientFor("admin@demo.local");

        var response = await client.GetAsync("/api/v1/audit?entity=user&pageSize=3");
        var page = await response.JsonAsync();

        Assert.Equal(3, page.GetArrayLength());
        var ids = page.EnumerateArray().Select(e => e.GetProperty("id").GetInt64()).ToList();
        Assert.Equal(ids.OrderDescending(), ids);
        Assert.All(page.EnumerateArray(), e => Assert.StartsWith("user:", e.GetProperty("entity").GetString()));
        Assert.True(int.Parse(response.Headers.GetValues("X-Total-Count").Single(), System.Globalization.CultureInfo.InvariantCulture) > 3);
    }

    [Theory]
    [InlineData("page=0", "page")]
    [InlineData("pageSize=501", "pageSize")]
    [InlineData("from=2026-02-01&to=2026-01-01", "from")]
    public async Task Search_WithBadParameters_Is400NamingThem(string query, string field)
    {
        var problem = await (await _portal.ClientFor("admin@demo.local").GetAsync($"/api/v1/audit?{query}")).JsonAsync(HttpStatusCode.BadRequest);

        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _));
    }

    [Fact]
    public async Task Search_WithUnparseableDate_Is400()
    {
        await (await _portal.ClientFor("admin@demo.local").GetAsync("/api/v1/audit?from=yesterday")).AssertProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Export_IsCsvOfTheFilteredTrail_WithFormulasDefused()
    {
        await _portal.Services.GetRequiredService<Portal.Infrastructure.Audit.AuditTrail>()
            .RecordAsync(new Portal.Domain.Common.Actor("mallory@x"), "test.export", "thing:csv", after: "=HYPERLINK(\"http://evil\")", reason: "a, \"quoted\" reason");

        var response = await _portal.ClientFor("admin@demo.local").GetAsync("/api/v1/audit/export.csv?entity=thing:csv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("id,at,actor,action,entity,before,after,reason,hash,previousHash", lines[0], StringComparison.Ordinal);
        Assert.Contains(",mallory@x,test.export,thing:csv,,\"'=HYPERLINK(\"\"http://evil\"\")\",\"a, \"\"quoted\"\" reason\",", lines[1], StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, (await _portal.ClientFor("scientist@demo.local").GetAsync("/api/v1/audit/export.csv")).StatusCode);
    }

    [Fact]
    public async Task Verify_FindsTheFirstEntryEditedInTheDatabase()
    {
        var client = _portal.ClientFor("admin@demo.local");
        Assert.True((await (await client.GetAsync("/api/v1/audit/verify")).JsonAsync()).GetProperty("valid").GetBoolean());

        await using (var db = await _portal.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            // The portal's connection is refused by the trigger; someone with the database file can drop it first.
            var refused = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => db.Database.ExecuteSqlRawAsync("UPDATE AuditEntries SET Actor = 'mallory' WHERE Id = 2"));
            Assert.Contains("append-only", refused.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => db.Database.ExecuteSqlRawAsync("DELETE FROM AuditEntries WHERE Id = 3"));
            await db.Database.ExecuteSqlRawAsync("DROP TRIGGER AuditEntries_NoUpdate");
            await db.Database.ExecuteSqlRawAsync("UPDATE AuditEntries SET Actor = 'mallory' WHERE Id = 2");
        }

        var result = await (await client.GetAsync("/api/v1/audit/verify")).JsonAsync();
        Assert.False(result.GetProperty("valid").GetBoolean());
        Assert.Equal(2, result.GetProperty("firstBrokenEntry").GetInt64());
    }

    public void Dispose()
    {
        _portal.Dispose();
        GC.SuppressFinalize(this);
    }
}
