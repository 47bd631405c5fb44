using Bunit;
using MudBlazor.Services;
using Portal.Components.Shared;
using Portal.Features.Navigation;

namespace Portal.UnitTests.Components;

/// <summary>Small shared components rendered with bunit, as a browser would receive them.</summary>
public sealed class ComponentRenderingTests : IAsyncLifetime
{
    private readonly BunitContext _bunit = new();

    public ComponentRenderingTests()
    {
        _bunit.Services.AddMudServices();
        _bunit.JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    // MudBlazor's services are only asynchronously disposable.
    public async Task DisposeAsync() => await _bunit.DisposeAsync();

    private IRenderedComponent<T> Render<T>(Action<ComponentParameterCollectionBuilder<T>> parameters)
        where T : Microsoft.AspNetCore.Components.IComponent => _bunit.Render(parameters);

    [Fact]
    public void RoleBadges_ShowEveryRole_InOrder_WithWhatItMeans()
    {
        var badges = Render<RoleBadges>(p => p.Add(c => c.Roles, new[] { "Viewer", "Admin" }));

        var chips = badges.FindAll(".portal-role-badge");
        Assert.Equal(["Admin", "Viewer"], chips.Select(c => c.TextContent.Trim()));
        Assert.Contains("Manages users, roles", chips[0].GetAttribute("title"));
    }

    [Theory]
    [InlineData(404, "Nothing here")]
    [InlineData(500, "Request not handled (500)")]
    // 403 shows the access-denied view, with the refused page's roles: AuthenticationTests render it on a real server.
    public void StatusPage_ExplainsTheStatus(int code, string title)
    {
        var page = Render<StatusPage>(p => p.Add(c => c.Code, code));

        Assert.Equal(title, page.Find("h1").TextContent);
    }

    [Fact]
    public void FieldErrorList_ShowsEachMessageAsAnAlert()
    {
        var list = Render<FieldErrorList>(p => p.Add(c => c.Messages, new[] { "First <b>problem</b>", "Second" }));

        var alerts = list.FindAll("[role=alert]");
        Assert.Equal(2, alerts.Count);
        Assert.Equal("First <b>problem</b>", alerts[0].TextContent);
        Assert.Empty(list.FindAll("b"));
    }

    [Fact]
    public void ChoiceList_TicksAndUnticksValues_ByClickingTheirLabels()
    {
        IEnumerable<string> chosen = ["Viewer"];
        var list = Render<ChoiceList>(p => p
            .Add(c => c.Label, "Roles")
            .Add(c => c.Options, new[] { "Admin", "Viewer" })
            .Add(c => c.Values, chosen)
            .Add(c => c.ValuesChanged, v => chosen = v));

        list.FindAll("input[type=checkbox]")[0].Change(true);

        Assert.Equal(["Viewer", "Admin"], chosen);
    }
}
