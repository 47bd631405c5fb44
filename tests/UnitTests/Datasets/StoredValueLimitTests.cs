using System.Net;
using System.Net.Http.Json;
using System.Text;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Datasets;

/// <summary>
/// One enormous cell is stored as data, but what the portal keeps to show of it — top values, preview
/// rows, examples in a validation report — is cut with an ellipsis and its full length, so a version's
/// page and API answer stay small.
/// </summary>
public class StoredValueLimitTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task AFiveMegabyteCell_IsShownCut_WithItsLengthNoted_Everywhere()
    {
        var client = portal.ClientFor("scientist@demo.local");
        var name = $"wide-cell-{Guid.NewGuid():N}"[..18];
        var huge = new string('x', 5 * 1024 * 1024);
        var csv = new StringBuilder("id,code,amount\n");
        for (var i = 0; i < 30; i++)
        {
            csv.Append(i).Append(',').Append(i == 3 ? huge : i % 2 == 0 ? "alpha" : "beta").Append(',').Append(i == 5 ? huge : "12").Append('\n');
        }

        using (var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(csv.ToString())), "file", "wide.csv" } })
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync($"/api/v1/datasets/{name}/versions", form)).StatusCode);
        }

        // A contract that expects numbers makes the huge amount a failing example.
        (await client.PutAsJsonAsync($"/api/v1/datasets/{name}/contract", new
        {
            columns = new object[]
            {
                new { name = "id", type = "integer", nullable = false },
                new { name = "code", type = "string", nullable = false },
                new { name = "amount", type = "integer", nullable = false },
            },
        })).EnsureSuccessStatusCode();
        using (var form = new MultipartFormDataContent { { new ByteArrayContent(Encoding.UTF8.GetBytes(csv.ToString() + "30,gamma,13\n")), "file", "wide.csv" } })
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync($"/api/v1/datasets/{name}/versions", form)).StatusCode);
        }

        foreach (var version in new[] { 1, 2 })
        {
            var response = await client.GetAsync($"/api/v1/datasets/{name}/versions/{version}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(body.Length < 64 * 1024, $"Version {version} answered {body.Length:N0} characters.");
            Assert.Contains("… (5,242,880 characters)", body);
        }

        var preview = await client.GetStringAsync($"/api/v1/datasets/{name}/versions/1/preview.csv");
        Assert.True(preview.Length < 16 * 1024, $"The preview is {preview.Length:N0} characters.");
        var report = await client.GetStringAsync($"/api/v1/datasets/{name}/versions/2/validation.csv");
        Assert.Contains("(5,242,880 characters)", report);
        Assert.True(report.Length < 16 * 1024, $"The validation report is {report.Length:N0} characters.");
    }
}
