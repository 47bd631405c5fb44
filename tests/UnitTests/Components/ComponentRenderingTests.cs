using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Components.Shared;
using Portal.Features.Navigation;
using Radzen;

namespace Portal.UnitTests.Components;

/// <summary>Components rendered to HTML in-process with the framework's HtmlRenderer (bunit does not restore here).</summary>
public class ComponentRenderingTests : IAsyncLifetime
{
    private ServiceProvider _services = default!;
    private HtmlRenderer _renderer = default!;

    public Task InitializeAsync()
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddRadzenComponents();
        services.AddSingleton<Microsoft.JSInterop.IJSRuntime, Builders.PrerenderJSRuntime>();
        _services = services.BuildServiceProvider();
        _renderer = new HtmlRenderer(_services, NullLoggerFactory.Instance);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task NotBuiltYet_SaysPlainlyWhereTheAreaIsPlanned_AndShowsNoData()
    {
        var html = await RenderAsync<NotBuiltYet>(new() { [nameof(NotBuiltYet.Area)] = PortalAreas.ByKey("deployments") });

        Assert.Contains("<h1>Deployments</h1>", html);
        Assert.Contains("not built yet", html);
        Assert.Contains("a later release", html);
        Assert.DoesNotContain("<table", html);
    }

    [Fact]
    public async Task RoleBadges_ShowEveryRole_InOrder_WithWhatItMeans()
    {
        var html = await RenderAsync<RoleBadges>(new() { [nameof(RoleBadges.Roles)] = new[] { "Viewer", "Admin" } });

        Assert.True(html.IndexOf(">Admin<", StringComparison.Ordinal) < html.IndexOf(">Viewer<", StringComparison.Ordinal));
        Assert.Contains("Manages users, roles", html);
    }

    [Theory]
    [InlineData(404, "Nothing here")]
    [InlineData(403, "Access denied")]
    [InlineData(500, "Request not handled (500)")]
    public async Task StatusPage_ExplainsTheStatus(int code, string title)
    {
        var html = await RenderAsync<StatusPage>(new() { [nameof(StatusPage.Code)] = code });

        Assert.Contains($"<h1>{System.Net.WebUtility.HtmlEncode(title)}</h1>", html);
    }

    [Fact]
    public async Task FieldErrorList_ShowsEachMessageAsAnAlert()
    {
        var html = await RenderAsync<FieldErrorList>(new() { [nameof(FieldErrorList.Messages)] = new[] { "First <b>problem</b>", "Second" } });

        Assert.Equal(2, html.Split("role=\"alert\"").Length - 1);
        Assert.Contains("First &lt;b&gt;problem&lt;/b&gt;", html);
    }

    public async Task DisposeAsync()
    {
        await _renderer.DisposeAsync();
        await _services.DisposeAsync();
    }

    private Task<string> RenderAsync<TComponent>(Dictionary<string, object?> parameters)
        where TComponent : IComponent =>
        _renderer.Dispatcher.InvokeAsync(async () =>
            (await _renderer.RenderComponentAsync<TComponent>(ParameterView.FromDictionary(parameters))).ToHtmlString());
}
