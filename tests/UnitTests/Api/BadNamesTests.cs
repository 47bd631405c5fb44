using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Portal.Domain.Common;
using Portal.Hubs;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>
/// Names, keys and references with a trailing newline, a carriage return, a tab, NUL, an invisible
/// character or a look-alike letter are refused before anything is written — never created and then
/// answered with a 500, never stored beside the real name.
/// </summary>
public partial class BadNamesTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    /// <summary>The same name spoiled each way an attacker (or a copy-paste) spoils it.</summary>
    public static TheoryData<string> Spoiled(string name, bool inPath = false) =>
    [
        // Kestrel itself refuses NUL in a URL path (400) before the portal sees it; TestServer throws instead.
        .. inPath ? Array.Empty<string>() : [name + "\0"],
        name + "\n", name + "\r", name + "\t", "\n" + name,
        name.Insert(2, "\u200B"), // zero-width space
        name.Replace('e', '\u0435'), // Cyrillic е
        name.Replace('c', '\uFF43'), // full-width ｃ
    ];

    public static TheoryData<string> SpoiledModelNames => Spoiled("credit-risk", inPath: true);

    public static TheoryData<string> SpoiledKeys => Spoiled("val_score");

    private readonly HttpClient _scientist = portal.ClientFor("scientist@demo.local");

    [Theory]
    [MemberData(nameof(SpoiledModelNames))]
    public async Task ADatasetName_IsRefused_AndNoDatasetAppears(string name)
    {
        using var form = new MultipartFormDataContent { { new StringContent("a,b\n1,2\n"), "file", "t.csv" } };

        var response = await _scientist.PostAsync($"/api/v1/datasets/{Uri.EscapeDataString(name)}/versions", form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var names = (await (await _scientist.GetAsync("/api/v1/datasets?pageSize=200")).JsonAsync()).EnumerateArray().Select(d => d.GetProperty("name").GetString()).ToList();
        Assert.DoesNotContain(name, names);
    }

    [Theory]
    [MemberData(nameof(SpoiledModelNames))]
    public async Task AModelName_IsRefused_AndNoModelAppears(string name)
    {
        var response = await _scientist.PostAsJsonAsync($"/api/v1/models/{Uri.EscapeDataString(name)}/versions", new { runId = "0123456789abcdef0123456789abcdef", artifactPath = "outputs/model.pkl" });

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("name", problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        var names = (await (await _scientist.GetAsync("/api/v1/models")).JsonAsync()).EnumerateArray().Select(m => m.GetProperty("name").GetString()).ToList();
        Assert.DoesNotContain(name, names);
    }

    [Theory]
    [MemberData(nameof(SpoiledKeys))]
    public async Task AJobInputName_ParamKey_OrVariable_IsRefused_AndNoJobIsQueued(string key)
    {
        var before = (await (await _scientist.GetAsync("/api/v1/jobs?take=500")).JsonAsync()).GetArrayLength();

        foreach (var body in new object[]
        {
            new { experiment = "bad-names", command = "true", inputs = new Dictionary<string, string> { [key] = "dataset:credit-risk:1" } },
            new { experiment = "bad-names", command = "true", @params = new Dictionary<string, string> { [key] = "1" } },
            new { experiment = "bad-names", command = "true", environment = new Dictionary<string, string> { [key] = "1" } },
        })
        {
            Assert.Equal(HttpStatusCode.BadRequest, (await _scientist.PostAsJsonAsync("/api/v1/jobs", body)).StatusCode);
        }

        Assert.Equal(before, (await (await _scientist.GetAsync("/api/v1/jobs?take=500")).JsonAsync()).GetArrayLength());
    }

    [Theory]
    [MemberData(nameof(SpoiledKeys))]
    public async Task AnExperimentName_RunName_OrMetricKey_IsRefusedTheMlflowWay(string name)
    {
        var create = await _scientist.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name });
        Assert.Equal(HttpStatusCode.BadRequest, create.StatusCode);
        Assert.Equal("INVALID_PARAMETER_VALUE", (await create.JsonAsync(HttpStatusCode.BadRequest)).GetProperty("error_code").GetString());
        var found = await _scientist.GetAsync($"/api/2.0/mlflow/experiments/get-by-name?experiment_name={Uri.EscapeDataString(name)}");
        Assert.Equal(HttpStatusCode.NotFound, found.StatusCode);

        var experiment = (await (await _scientist.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = $"bad-names-{Guid.NewGuid():N}" })).JsonAsync()).GetProperty("experiment_id").GetString();
        Assert.Equal(HttpStatusCode.BadRequest, (await _scientist.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = experiment, run_name = name })).StatusCode);
        var run = (await (await _scientist.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = experiment })).JsonAsync()).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        var batch = await _scientist.PostAsJsonAsync("/api/2.0/mlflow/runs/log-batch", new
        {
            run_id = run,
            metrics = new[] { new { key = name, value = 1.0, timestamp = 1, step = 0 } },
        });
        Assert.Equal(HttpStatusCode.BadRequest, batch.StatusCode);
        var stored = (await (await _scientist.GetAsync($"/api/2.0/mlflow/runs/get?run_id={run}")).JsonAsync()).GetProperty("run").GetProperty("data");
        Assert.False(stored.TryGetProperty("metrics", out var metrics) && metrics.GetArrayLength() > 0);
    }

    [Theory]
    [MemberData(nameof(SpoiledKeys))]
    public async Task ATokenName_IsRefused(string name)
    {
        var response = await _scientist.PostAsJsonAsync("/api/v1/tokens", new { name, expiresInDays = 1 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var tokens = (await (await _scientist.GetAsync("/api/v1/tokens")).JsonAsync()).EnumerateArray().Select(t => t.GetProperty("name").GetString());
        Assert.DoesNotContain(name, tokens);
    }

    [Theory]
    [InlineData("model:credit-risk\n")]
    [InlineData("run:abc\n")]
    [InlineData("dataset:credit-risk:1\n")]
    [InlineData("model:credit-risk:1\u0000")]
    public void ALiveTopic_WithATrailingNewlineOrNul_IsRefused(string topic)
    {
        var admin = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Name, "admin@demo.local"), new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Role, "Admin")], "test"));

        Assert.NotNull(LiveTopics.WhyNot(admin, topic));
        Assert.Null(LiveTopics.WhyNot(admin, topic.TrimEnd('\n', '\0')));
    }

    [Fact]
    public void NoPatternInThePortal_AnchorsWithDollar()
    {
        // A '$' that is not escaped or inside a character class matches before a final newline too.
        var assemblies = new[] { typeof(Names).Assembly, typeof(Portal.Infrastructure.DependencyInjection).Assembly, typeof(Program).Assembly };
        var patterns = assemblies.SelectMany(a => a.GetTypes())
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<GeneratedRegexAttribute>()))
            .Where(x => x.Attribute is not null)
            .ToList();

        Assert.True(patterns.Count >= 8, $"Only {patterns.Count} generated patterns found; the scan is not seeing them.");
        Assert.All(patterns, p => Assert.False(DollarAnchor().IsMatch(p.Attribute!.Pattern),
            $"{p.Method.DeclaringType!.Name}.{p.Method.Name} anchors with '$' (use \\z): {p.Attribute.Pattern}"));
        var source = Path.Combine(Portal.Infrastructure.Configuration.DataDirectory.FindRepositoryRoot(AppContext.BaseDirectory)!, "src");
        var inline = Directory.EnumerateFiles(source, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/", StringComparison.Ordinal) && !f.Contains("/bin/", StringComparison.Ordinal))
            .Where(f => InlinePattern().IsMatch(File.ReadAllText(f))).ToList();
        Assert.True(inline.Count == 0, $"Patterns outside [GeneratedRegex] escape this check: {string.Join(", ", inline)}");
    }

    [Fact]
    public async Task EveryRoute_GivenNulNewlineOrInvisibleCharacters_AnswersWithoutAServerError()
    {
        var endpoints = portal.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.Parameters.Count > 0 && !e.RoutePattern.RawText!.Contains("_blazor", StringComparison.Ordinal)
                && !e.RoutePattern.RawText.Contains("{**path:file}", StringComparison.Ordinal) && !e.RoutePattern.RawText.StartsWith("/_content", StringComparison.Ordinal))
            .ToList();
        var admin = portal.ClientFor("admin@demo.local");
        var failures = new List<string>();
        var tried = 0;
        foreach (var endpoint in endpoints)
        {
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            foreach (var value in new[] { "x%0A", "x%0D%0A", "%E2%80%8B", "x%0A%2F..%2Fetc", "%D1%81redit" })
            {
                var url = "/" + RouteParameter().Replace(endpoint.RoutePattern.RawText!.TrimStart('/'), m =>
                    m.Groups["constraint"].Value.Contains("int", StringComparison.Ordinal) ? "1"
                    : m.Groups["constraint"].Value.Contains("guid", StringComparison.Ordinal) ? Guid.NewGuid().ToString()
                    : value);
                foreach (var method in methods.Where(m => m is not "OPTIONS" and not "HEAD"))
                {
                    using var request = new HttpRequestMessage(new HttpMethod(method), url + "?name=x%00&path=a%00b&artifact=dataset:x%0A:1&run_id=x%00");
                    request.Headers.Add("X-Portal-Request", "1");
                    if (method is "POST" or "PUT" or "PATCH")
                    {
                        request.Content = new StringContent("{\"name\":\"x\\n\",\"runId\":\"x\\u0000\",\"artifactPath\":\"a\\u0000b\"}", System.Text.Encoding.UTF8, "application/json");
                    }

                    using var response = await admin.SendAsync(request);
                    tried++;
                    if ((int)response.StatusCode >= 500)
                    {
                        failures.Add($"{method} {url} answered {(int)response.StatusCode}");
                    }
                }
            }
        }

        Assert.True(tried > 100, $"Only {tried} requests were tried.");
        Assert.Empty(failures);
    }

    [Fact]
    public async Task ACodePath_OrCommand_WithNul_IsA400NamingTheField()
    {
        foreach (var (body, field) in new (object, string)[]
        {
            (new { experiment = "bad-names", command = "true", codePath = "sklearn\0" }, "codePath"),
            (new { experiment = "bad-names", command = "echo a\0b" }, "command"),
        })
        {
            var problem = await (await _scientist.PostAsJsonAsync("/api/v1/jobs", body)).JsonAsync(HttpStatusCode.BadRequest);
            Assert.Contains(field, problem.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        }
    }

    [Fact]
    public void Names_ShowTheInvisible_AndAcceptOrdinaryText()
    {
        Assert.Equal("credit-risk\\n", Names.Visible("credit-risk\n"));
        Assert.Equal("a\\u200Bb", Names.Visible("a\u200Bb"));
        Assert.Null(Names.FreeTextProblem("Kredit-Risiko Ü 2026", "name", 100));
        Assert.Null(Names.FreeTextProblem("кредитный риск", "name", 100));
        Assert.NotNull(Names.FreeTextProblem("credit risk\n", "name", 100));
        Assert.NotNull(Names.FreeTextProblem("cr\u0435dit", "name", 100));
    }

    [GeneratedRegex(@"(?<!\\)\$(?![^\[]*\])")]
    private static partial Regex DollarAnchor();

    [GeneratedRegex(@"Regex\.(IsMatch|Match|Matches|Replace|Split)\(\s*[A-Za-z_]+\s*,\s*\$?@?""\^|new Regex\(")]
    private static partial Regex InlinePattern();

    [GeneratedRegex(@"\{\*{0,2}(?<name>[^}:=?]+)(?<constraint>[^}]*)\}")]
    private static partial Regex RouteParameter();
}
