using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.EntityFrameworkCore;
using MudBlazor;
using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.Domain.Ports;
using Portal.Infrastructure.Deployments;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Serving;
using Portal.Security;
using Endpoint = Portal.Domain.Deployments.Endpoint;

namespace Portal.Features.Deployments;

/// <summary>One deployment: its settings and probes, its instances (state, restarts, problems), their logs and sampled requests. Live.</summary>
public sealed partial class DeploymentPage
{
    private Deployment? _deployment;
    private bool _missing;
    private bool _mayOperate;
    private Actor _actor = Actor.Anonymous;
    private int _traffic;
    private int _mirror;
    private IReadOnlyList<InstanceStatus> _instances = [];
    private IReadOnlyList<ScoringSample> _samples = [];
    private int _logInstance;
    private string _log = "";
    private string? _message;
    private Severity _messageSeverity = Severity.Info;

    [Parameter]
    public string EndpointName { get; set; } = "";

    [Parameter]
    public string Name { get; set; } = "";

    [Inject]
    private EndpointService Endpoints { get; set; } = default!;

    [Inject]
    private IWorkspaceBackend Backend { get; set; } = default!;

    [Inject]
    private IDbContextFactory<PortalDbContext> DbFactory { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override string RouteKey => $"endpoint:{EndpointName}:{Name}";

    protected override void OnInitialized() =>
        Live<IDomainEvent>(ReloadAsync, e => e.Subject == RouteKey || e.Subject == $"endpoint:{EndpointName}", TimeSpan.FromSeconds(1));

    protected override void ResetState() => (_deployment, _missing, _message, _log, _logInstance) = (null, false, null, "", 0);

    protected override async Task OnParametersSetAsync()
    {
        _actor = (await AuthenticationState).User.ToActor();
        _mayOperate = Endpoint.MayOperate(_actor);
        await ReloadAsync();
    }

    private Task ReloadAsync() => LoadAsync(async cancel =>
    {
        var endpoint = await Endpoints.FindAsync(EndpointName, cancel);
        _deployment = endpoint?.Find(Name);
        _missing = _deployment is null;
        if (endpoint is null || _deployment is null)
        {
            return;
        }

        _traffic = endpoint.Assignment.PercentOf(Name);
        _mirror = endpoint.Assignment.MirrorDeployment == Name ? endpoint.Assignment.MirrorPercent : 0;
        _instances = await Backend.InstancesAsync(EndpointName, Name, cancel);
        _log = await Backend.ReadInstanceLogAsync(EndpointName, Name, _logInstance, 32 * 1024, cancel);
        await using var db = await DbFactory.CreateDbContextAsync(cancel);
        _samples = await db.ScoringSamples.AsNoTracking().Where(s => s.Endpoint == EndpointName && s.Deployment == Name)
            .OrderByDescending(s => s.Id).Take(20).ToListAsync(cancel);
    });

    private static string Probe(ProbeSettings probe) =>
        $"first after {probe.InitialDelaySeconds} s, every {probe.PeriodSeconds} s, {probe.TimeoutSeconds} s timeout, {probe.FailureThreshold} failures in a row";

    private async Task EditAsync()
    {
        if (await Dialogs.OpenAsync<SettingsDialog>($"Settings of {Name}", new Dictionary<string, object?> { ["Endpoint"] = EndpointName, ["Deployment"] = _deployment }, MaxWidth.Medium) is true)
        {
            (_message, _messageSeverity) = ("Settings saved; its instances are being replaced.", Severity.Success);
            await ReloadAsync();
        }
    }

    private async Task DeleteAsync()
    {
        if (!await Dialogs.ConfirmAsync($"Its instances stop and {Name} is removed from {EndpointName}.", $"Delete {Name}?", "Delete", "Cancel"))
        {
            return;
        }

        try
        {
            await Endpoints.DeleteDeploymentAsync(EndpointName, Name, _actor, CancellationToken.None);
            Navigation.NavigateTo($"/deployments/{EndpointName}");
        }
        catch (DomainException e)
        {
            (_message, _messageSeverity) = (e.Message, Severity.Error);
        }
    }
}
