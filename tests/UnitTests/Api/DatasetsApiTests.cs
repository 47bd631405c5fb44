using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

public class DatasetsApiTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;
    private readonly HttpClient _scientist;

    public DatasetsApiTests(PortalFactory portal)
    {
        _portal = portal;
        _scientist = portal.ClientFor("scientist@demo.local");
    }

    [Fact]
    public async Task Register_ReturnsSchemaAndValidation_AndTheSameBytesAgainGiveTheExistingVersion()
    {
        var name = Unique("loans");
        var csv = Loans(300, seed: 1);

        var created = await (await UploadAsync(name, csv, "loans.csv", description: "September extract")).JsonAsync(HttpStatusCode.Created);

        Assert.Equal(name, created.GetProperty("name").GetString());
        Assert.Equal(1, created.GetProperty("version").GetInt32());
        Assert.Equal(300, created.GetProperty("rows").GetInt64());
        Assert.Equal(5, created.GetProperty("columns").GetInt32());
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(csv)), created.GetProperty("hash").GetString());
        var types = created.GetProperty("schema").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => c.GetProperty("type").GetString());
        Assert.Equal("integer", types["customer_id"]);
        Assert.Equal("integer", types["age"]);
        Assert.Equal("float", types["income"]);
        Assert.Equal("categorical", types["segment"]);
        Assert.Equal("boolean", types["defaulted"]);
        Assert.Equal("passed", created.GetProperty("validation").GetProperty("status").GetString());
        Assert.Equal("September extract", created.GetProperty("description").GetString());

        var again = await UploadAsync(name, csv, "renamed.csv");
        var existing = await again.JsonAsync(HttpStatusCode.OK);
        Assert.Equal(1, existing.GetProperty("version").GetInt32());

        var dataset = await (await _scientist.GetAsync($"/api/v1/datasets/{name}")).JsonAsync();
        Assert.Single(dataset.GetProperty("versions").EnumerateArray());
        Assert.Equal("passed", dataset.GetProperty("versions")[0].GetProperty("validation").GetProperty("status").GetString());
        Assert.Equal("scientist@demo.local", dataset.GetProperty("versions")[0].GetProperty("createdBy").GetString());
    }

    [Fact]
    public async Task VersionDetail_HasAProfilePerColumn_AndContentIsTheOriginalBytes()
    {
        var name = Unique("profile");
        var csv = Loans(500, seed: 2);
        await (await UploadAsync(name, csv)).JsonAsync(HttpStatusCode.Created);

        var version = await (await _scientist.GetAsync($"/api/v1/datasets/{name}/versions/1")).JsonAsync();
        var age = version.GetProperty("profile").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "age");
        var ages = Rows(csv).Select(r => double.Parse(r[1], CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(500, age.GetProperty("count").GetInt64());
        Assert.Equal(0, age.GetProperty("missing").GetInt64());
        Assert.Equal(ages.Min(), age.GetProperty("min").GetDouble());
        Assert.Equal(ages.Max(), age.GetProperty("max").GetDouble());
        Assert.Equal(ages.Average(), age.GetProperty("mean").GetDouble(), 6);
        Assert.Equal(ages.Distinct().Count(), age.GetProperty("distinct").GetInt64());
        Assert.Equal(500, age.GetProperty("histogram").GetProperty("counts").EnumerateArray().Sum(c => c.GetInt64()));
        Assert.True(version.GetProperty("profile").EnumerateArray().All(c => c.TryGetProperty("std", out _)));

        var content = await _scientist.GetAsync($"/api/v1/datasets/{name}/versions/1/content");
        Assert.Equal(HttpStatusCode.OK, content.StatusCode);
        Assert.Equal(csv, await content.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task NewVersion_IsCheckedAgainstTheContract_AndForDrift_AndAFailedVersionIsKept()
    {
        var name = Unique("drifting");
        await (await UploadAsync(name, Loans(1000, seed: 3))).JsonAsync(HttpStatusCode.Created);
        var contract = new
        {
            columns = new object[]
            {
                new { name = "customer_id", type = "integer", nullable = false, unique = true },
                new { name = "age", type = "integer", nullable = false, min = 18.0, max = 90.0 },
                new { name = "income", type = "float", nullable = false },
                new { name = "segment", type = "categorical", nullable = false, allowed = new[] { "retail", "sme", "private" } },
                new { name = "defaulted", type = "boolean", nullable = false },
            },
        };
        var adopted = await (await _scientist.PutAsJsonAsync($"/api/v1/datasets/{name}/contract", contract)).JsonAsync();
        Assert.Equal(2, adopted.GetProperty("version").GetInt32());

        // Version 2: incomes doubled, three ages out of range, an unknown segment, a repeated id.
        var second = Loans(1000, seed: 4, incomeFactor: 2.0, patch: (i, row) =>
        {
            if (i is 10 or 20 or 30) { row[1] = "150"; }
            if (i == 40) { row[3] = "crypto"; }
            if (i == 50) { row[0] = "100001"; }
        });
        var registered = await (await UploadAsync(name, second)).JsonAsync(HttpStatusCode.Created);

        var validation = registered.GetProperty("validation");
        Assert.Equal("failed", validation.GetProperty("status").GetString());
        var failures = validation.GetProperty("failures").EnumerateArray().ToList();
        var range = failures.Single(f => f.GetProperty("column").GetString() == "age" && f.GetProperty("rule").GetString() == "range");
        Assert.Equal(3, range.GetProperty("count").GetInt64());
        Assert.Contains("150", range.GetProperty("detail").GetString() + string.Join(" ", range.GetProperty("examples").EnumerateArray()));
        Assert.Equal(1, failures.Single(f => f.GetProperty("column").GetString() == "segment" && f.GetProperty("rule").GetString() == "category").GetProperty("count").GetInt64());
        Assert.Contains(failures, f => f.GetProperty("column").GetString() == "customer_id" && f.GetProperty("rule").GetString() == "duplicate");
        var incomeDrift = failures.Single(f => f.GetProperty("column").GetString() == "income" && f.GetProperty("rule").GetString() == "drift");
        Assert.Contains("PSI", incomeDrift.GetProperty("detail").GetString());
        Assert.DoesNotContain(failures, f => f.GetProperty("column").GetString() == "defaulted" && f.GetProperty("rule").GetString() == "drift");
        var drift = validation.GetProperty("drift").EnumerateArray().Single(d => d.GetProperty("column").GetString() == "income");
        Assert.True(drift.GetProperty("psi").GetDouble() > 0.25);
        Assert.True(drift.GetProperty("ksPValue").GetDouble() < 0.01);
        Assert.True(drift.GetProperty("outOfRangeShare").GetDouble() > 0.2);
        Assert.Equal(1, validation.GetProperty("comparedToVersion").GetInt32());

        var dataset = await (await _scientist.GetAsync($"/api/v1/datasets/{name}")).JsonAsync();
        Assert.Equal(["passed", "failed"], dataset.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("validation").GetProperty("status").GetString()));
    }

    [Theory]
    [InlineData("empty", "The file is empty.")]
    [InlineData("header-only", "header but no rows")]
    [InlineData("ragged", "Line 3 has 2 fields; the header has 3.")]
    [InlineData("latin1", "Line 2, byte 4 is not UTF-8")]
    [InlineData("utf16", "UTF-16")]
    [InlineData("broken-jsonl", "Line 2 is not valid JSON")]
    [InlineData("long-column-name", "The name of column 2 is 10000 characters long")]
    [InlineData("path-in-name", "contains a path")]
    public async Task BadFiles_AreRefusedNamingTheProblem_AndLeaveNothingBehind(string kind, string expected)
    {
        var name = Unique("bad");
        var (bytes, fileName) = kind switch
        {
            "empty" => (Array.Empty<byte>(), "empty.csv"),
            "header-only" => ("a,b,c\n"u8.ToArray(), "header.csv"),
            "ragged" => ("a,b,c\n1,2,3\n4,5\n"u8.ToArray(), "ragged.csv"),
            "latin1" => (Encoding.Latin1.GetBytes("name,city\nRené,Zürich\n"), "latin1.csv"),
            "utf16" => (Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("a,b\n1,2\n")).ToArray(), "utf16.csv"),
            "broken-jsonl" => ("{\"a\": 1}\n{\"a\": 2\n{\"a\": 3}\n"u8.ToArray(), "broken.jsonl"),
            "long-column-name" => (Encoding.UTF8.GetBytes($"id,{new string('x', 10_000)}\n1,2\n"), "wide.csv"),
            _ => ("a,b\n1,2\n"u8.ToArray(), "../../etc/passwd.csv"),
        };
        await _portal.WaitForDemoDataAsync();
        var blobsBefore = _portal.ArtifactFiles();

        var response = await UploadAsync(name, bytes, fileName);

        var detail = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(expected, detail);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.True(problem.GetProperty("errors").TryGetProperty("file", out _));
        Assert.Equal(HttpStatusCode.NotFound, (await _scientist.GetAsync($"/api/v1/datasets/{name}")).StatusCode);
        Assert.Equal(blobsBefore, _portal.ArtifactFiles());
    }

    [Fact]
    public async Task ABadSecondVersion_LeavesTheFirstAlone()
    {
        var name = Unique("kept");
        await (await UploadAsync(name, Loans(50, seed: 5))).JsonAsync(HttpStatusCode.Created);
        await _portal.WaitForDemoDataAsync();
        var blobsBefore = _portal.ArtifactFiles();

        await (await UploadAsync(name, "customer_id,age\n1,2,3\n"u8.ToArray())).AssertProblemAsync(HttpStatusCode.BadRequest);

        var dataset = await (await _scientist.GetAsync($"/api/v1/datasets/{name}")).JsonAsync();
        Assert.Single(dataset.GetProperty("versions").EnumerateArray());
        Assert.Equal(blobsBefore, _portal.ArtifactFiles());
    }

    [Fact]
    public async Task Exports_NeverTurnACellIntoASpreadsheetFormula()
    {
        var name = Unique("formulas");
        var csv = "id,segment,note\n1,retail,=HYPERLINK(\"http://evil\")\n2,sme,+SUM(A1)\n3,private,plain\n"u8.ToArray();
        await (await UploadAsync(name, csv)).JsonAsync(HttpStatusCode.Created);
        await (await _scientist.PutAsJsonAsync($"/api/v1/datasets/{name}/contract", new
        {
            columns = new object[]
            {
                new { name = "id", type = "integer", nullable = false },
                new { name = "segment", type = "categorical", nullable = false, allowed = new[] { "retail" } },
                new { name = "note", type = "string", nullable = true },
            },
        })).JsonAsync();
        await (await UploadAsync(name, "id,segment,note\n1,=1+2,x\n2,sme,y\n"u8.ToArray())).JsonAsync(HttpStatusCode.Created);

        var preview = await (await _scientist.GetAsync($"/api/v1/datasets/{name}/versions/1/preview.csv")).Content.ReadAsStringAsync();
        Assert.Contains("'=HYPERLINK", preview);
        Assert.Contains("'+SUM(A1)", preview);
        Assert.DoesNotContain(",=HYPERLINK", preview);

        var validation = await _scientist.GetAsync($"/api/v1/datasets/{name}/versions/2/validation.csv");
        Assert.Equal("text/csv", validation.Content.Headers.ContentType?.MediaType);
        var text = await validation.Content.ReadAsStringAsync();
        Assert.Contains("category", text);
        Assert.DoesNotMatch(@"(^|,)""?=1\+2", text);
    }

    [Fact]
    public async Task SensitiveColumns_AreMaskedInPreviews_AndHaveNoTopValues()
    {
        var name = Unique("pii");
        var rows = Enumerable.Range(1, 40).Select(i => $"{i},person{i}@example.org,{20 + i}");
        var csv = Encoding.UTF8.GetBytes("id,email,age\n" + string.Join("\n", rows) + "\n");

        var created = await (await UploadAsync(name, csv)).JsonAsync(HttpStatusCode.Created);

        Assert.Contains(created.GetProperty("pii").EnumerateArray(), p => p.GetProperty("column").GetString() == "email" && p.GetProperty("kind").GetString() == "email");
        var dataset = await (await _scientist.GetAsync($"/api/v1/datasets/{name}")).JsonAsync();
        Assert.True(dataset.GetProperty("contract").GetProperty("columns").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "email").GetProperty("sensitive").GetBoolean());
        var preview = await (await _scientist.GetAsync($"/api/v1/datasets/{name}/versions/1/preview.csv")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("@example.org", preview);
        Assert.Contains("•••", preview);
        var version = await (await _scientist.GetAsync($"/api/v1/datasets/{name}/versions/1")).JsonAsync();
        Assert.DoesNotContain("@example.org", version.GetRawText());
    }

    [Fact]
    public async Task Contract_WithMinAboveMax_OrAnUnknownType_IsRefused_AndNothingChanges()
    {
        var name = Unique("contract");
        await (await UploadAsync(name, Loans(20, seed: 6))).JsonAsync(HttpStatusCode.Created);

        var minAboveMax = await _scientist.PutAsJsonAsync($"/api/v1/datasets/{name}/contract", new
        {
            columns = new object[] { new { name = "age", type = "integer", min = 90.0, max = 18.0 } },
        });
        var detail = JsonDocument.Parse(await minAboveMax.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, minAboveMax.StatusCode);
        Assert.Contains("min (90) is greater than max (18) for 'age'", detail.GetProperty("errors").GetRawText());

        var unknownType = await _scientist.PutAsJsonAsync($"/api/v1/datasets/{name}/contract", new
        {
            columns = new object[] { new { name = "age", type = "decimal128" } },
        });
        var errors = JsonDocument.Parse(await unknownType.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.Equal(HttpStatusCode.BadRequest, unknownType.StatusCode);
        Assert.Contains("'decimal128' is not a column type", errors.GetProperty("columns[0].type")[0].GetString());

        var dataset = await (await _scientist.GetAsync($"/api/v1/datasets/{name}")).JsonAsync();
        Assert.Equal(1, dataset.GetProperty("contract").GetProperty("version").GetInt32());
        Assert.Equal(5, dataset.GetProperty("contract").GetProperty("columns").GetArrayLength());
    }

    [Fact]
    public async Task DescriptionAndTags_AreEditable_ButTheVersionStaysTheSame()
    {
        var name = Unique("tags");
        var created = await (await UploadAsync(name, Loans(30, seed: 7))).JsonAsync(HttpStatusCode.Created);

        var edited = await (await _scientist.PatchAsJsonAsync($"/api/v1/datasets/{name}/versions/1", new { description = "Cleaned", tags = new[] { "gold", "q3" } })).JsonAsync();

        Assert.Equal("Cleaned", edited.GetProperty("description").GetString());
        Assert.Equal(["gold", "q3"], edited.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
        Assert.Equal(created.GetProperty("hash").GetString(), edited.GetProperty("hash").GetString());
        var tooMany = await _scientist.PatchAsJsonAsync($"/api/v1/datasets/{name}/versions/1", new { tags = Enumerable.Range(0, 100).Select(i => $"t{i}") });
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _scientist.PatchAsJsonAsync($"/api/v1/datasets/{name}/versions/9", new { description = "x" })).StatusCode);
    }

    [Fact]
    public async Task List_PagesSearchesAndSorts_OnTheServer()
    {
        var prefix = Unique("listing");
        foreach (var suffix in new[] { "c", "a", "b" })
        {
            await (await UploadAsync($"{prefix}-{suffix}", Loans(10, seed: suffix[0]))).JsonAsync(HttpStatusCode.Created);
        }

        var first = await _scientist.GetAsync($"/api/v1/datasets?search={prefix}&sort=name&pageSize=2&page=1");
        var page1 = await first.JsonAsync();
        var page2 = await (await _scientist.GetAsync($"/api/v1/datasets?search={prefix}&sort=name&pageSize=2&page=2")).JsonAsync();
        var descending = await (await _scientist.GetAsync($"/api/v1/datasets?search={prefix}&sort=name&order=desc&pageSize=1")).JsonAsync();

        Assert.Equal("3", first.Headers.GetValues("X-Total-Count").Single());
        Assert.Equal([$"{prefix}-a", $"{prefix}-b"], page1.EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        Assert.Equal([$"{prefix}-c"], page2.EnumerateArray().Select(d => d.GetProperty("name").GetString()));
        Assert.Equal($"{prefix}-c", descending[0].GetProperty("name").GetString());
        Assert.Equal("passed", page1[0].GetProperty("latestStatus").GetString());
    }

    [Theory]
    [InlineData("viewer@demo.local")]
    [InlineData("ops@demo.local")]
    public async Task ViewersAndOps_ReadButCannotChange(string user)
    {
        var name = Unique("readonly");
        await (await UploadAsync(name, Loans(10, seed: 8))).JsonAsync(HttpStatusCode.Created);
        var viewer = _portal.ClientFor(user);

        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync($"/api/v1/datasets/{name}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(name, Loans(10, seed: 9), client: viewer)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PutAsJsonAsync($"/api/v1/datasets/{name}/contract", new { columns = Array.Empty<object>() })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PatchAsJsonAsync($"/api/v1/datasets/{name}/versions/1", new { description = "mine" })).StatusCode);
        var dataset = await (await _scientist.GetAsync($"/api/v1/datasets/{name}")).JsonAsync();
        Assert.Single(dataset.GetProperty("versions").EnumerateArray());
    }

    [Fact]
    public async Task UnknownDatasetsAndVersions_Are404_AndBadNames400()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _scientist.GetAsync("/api/v1/datasets/no-such-data")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _scientist.GetAsync("/api/v1/datasets/no-such-data/versions/1/content")).StatusCode);
        var badName = await UploadAsync("Bad Name!", "a\n1\n"u8.ToArray());
        var problem = JsonDocument.Parse(await badName.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _));
        var notMultipart = await _scientist.PostAsync($"/api/v1/datasets/{Unique("raw")}/versions", new ByteArrayContent("a\n1\n"u8.ToArray()));
        Assert.Equal(HttpStatusCode.BadRequest, notMultipart.StatusCode);
    }

    private async Task<HttpResponseMessage> UploadAsync(string name, byte[] content, string fileName = "data.csv", string? description = null, HttpClient? client = null)
    {
        using var form = new MultipartFormDataContent();
        if (description is not null)
        {
            form.Add(new StringContent(description), "description");
        }

        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", fileName);
        return await (client ?? _scientist).PostAsync($"/api/v1/datasets/{name}/versions", form);
    }

    private static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    private static IEnumerable<string[]> Rows(byte[] csv) =>
        Encoding.UTF8.GetString(csv).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(','));

    /// <summary>A loan table: id, age, income (log-normal), segment, defaulted.</summary>
    internal static byte[] Loans(int rows, int seed, double incomeFactor = 1.0, Action<int, string[]>? patch = null)
    {
        var random = new Random(seed);
        string[] segments = ["retail", "sme", "private"];
        var text = new StringBuilder("customer_id,age,income,segment,defaulted\n");
        for (var i = 0; i < rows; i++)
        {
            var income = Math.Exp(10.5 + (0.4 * Normal(random))) * incomeFactor;
            var row = new[]
            {
                (100_000 + i).ToString(CultureInfo.InvariantCulture),
                random.Next(18, 80).ToString(CultureInfo.InvariantCulture),
                income.ToString("0.00", CultureInfo.InvariantCulture),
                segments[random.Next(segments.Length)],
                random.NextDouble() < 0.1 ? "true" : "false",
            };
            patch?.Invoke(i, row);
            text.Append(string.Join(',', row)).Append('\n');
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
