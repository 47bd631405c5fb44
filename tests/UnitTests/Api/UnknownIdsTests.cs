using System.Net;
using System.Net.Http.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>
/// Every route that names something answers an unknown name or id with 404 and a problem that says what was
/// not found — never a 500, never a 400 about something else. The errors are mapped once, in the exception handler.
/// </summary>
public class UnknownIdsTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private static readonly string Nobody = Guid.NewGuid().ToString();

    public static TheoryData<string, string, string?> Routes => new()
    {
        { "GET", $"/api/v1/approval-requests/{Nobody}", null },
        { "POST", $"/api/v1/approval-requests/{Nobody}/decisions", """{"verdict":"approve","reason":"fine"}""" },
        { "POST", "/api/v1/models/no-such-model/versions/1/approval-requests", """{"comment":"please"}""" },
        { "GET", "/api/v1/datasets/no-such-data", null },
        { "PATCH", "/api/v1/datasets/no-such-data", """{"description":"x"}""" },
        { "GET", "/api/v1/datasets/no-such-data/versions/1", null },
        { "PATCH", "/api/v1/datasets/no-such-data/versions/1", """{"description":"x"}""" },
        { "GET", "/api/v1/datasets/no-such-data/versions/1/content", null },
        { "GET", "/api/v1/datasets/no-such-data/versions/1/validation.csv", null },
        { "GET", "/api/v1/datasets/no-such-data/versions/1/preview.csv", null },
        { "GET", "/api/v1/datasets/credit-risk/versions/999", null },
        { "GET", "/api/v1/experiments/987654/runs.csv", null },
        { "GET", "/api/v1/jobs/no-such-job", null },
        { "POST", "/api/v1/jobs/no-such-job/cancel", null },
        { "GET", "/api/v1/jobs/no-such-job/logs", null },
        { "GET", "/api/v1/models/no-such-model", null },
        { "GET", "/api/v1/models/no-such-model/versions/1", null },
        { "PUT", "/api/v1/models/no-such-model/versions/1/card", """{"intendedUse":"scoring","limitations":"none","trainingData":"credit-risk"}""" },
        { "POST", "/api/v1/models/no-such-model/versions/1/archive", """{"reason":"old"}""" },
        { "GET", $"/api/v1/runs/{Nobody:N}", null },
        { "GET", $"/api/v1/runs/{Nobody:N}/artifacts", null },
        { "GET", $"/api/v1/runs/{Nobody:N}/artifacts/model.pkl", null },
        { "GET", $"/api/v1/runs/{Nobody:N}/metrics/loss/series", null },
        { "GET", "/api/v1/sweeps/no-such-sweep", null },
        { "POST", "/api/v1/sweeps/no-such-sweep/cancel", null },
        { "DELETE", $"/api/v1/tokens/{Nobody}", null },
        { "GET", "/api/v1/users/nobody@demo.local", null },
        { "PATCH", "/api/v1/users/nobody@demo.local", """{"locked":true}""" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task AnUnknownName_Is404_WithAProblemSayingSo(string method, string url, string? body)
    {
        await portal.WaitForDemoDataAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }

        var response = await portal.ClientFor("admin@demo.local").SendAsync(request);

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {url}: {(int)response.StatusCode} {text}");
        Assert.Contains("application/problem+json", response.Content.Headers.ContentType?.ToString() ?? "", StringComparison.Ordinal);
    }
}
