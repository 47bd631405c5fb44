using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.Domain.Monitoring;
using Portal.Domain.Ports;
using Portal.Infrastructure.Deployments;
using Portal.Infrastructure.Monitoring;
using Portal.Infrastructure.Serving;
using Portal.Security;
using Endpoint = Portal.Domain.Deployments.Endpoint;

namespace Portal.Features.Deployments;

/// <summary>
/// One endpoint: its deployments with health and figures, the traffic configured and served, a rollout in
/// progress with its gates and timeline, live charts and drift, the try-it box, keys, alert rules and history.
/// Actions are offered to Ops and administrators only, and each is checked again by the service.
/// </summary>
public sealed partial class EndpointPage
{
    private Endpoint? _endpoint;
    private bool _missing;
    private Actor _actor = Actor.Anonymous;
    private bool _mayOperate;
    private IReadOnlyList<Alert> _alerts = [];
    private IReadOnlyList<AlertRule> _rules = [];
    private IReadOnlyList<DeploymentSeries> _series = [];
    private IReadOnlyList<(string Deployment, int Index, DriftReport Report)> _drift = [];
    private IReadOnlyList<(string Deployment, long Mirrored, double? Disagreement)> _mirrorFigures = [];
    private IReadOnlyList<(string Name, int Percent)> _served = [];
    private Dictionary<string, StatsSummary> _figures = [];
    private Dictionary<string, IReadOnlyList<InstanceStatus>> _instances = [];
    private RolloutObservation? _observation;
    private long _sampleTraffic;
    private string _example = "";
    private string? _message;
    private Severity _messageSeverity = Severity.Info;
    private int _tab;
    private int _minutes = 15;

    [Parameter]
    public string Name { get; set; } = "";

    [Inject]
    private EndpointService Endpoints { get; set; } = default!;

    [Inject]
    private ServingMonitor Monitor { get; set; } = default!;

    [Inject]
    private ServingTable Routes { get; set; } = default!;

    [Inject]
    private IWorkspaceBackend Backend { get; set; } = default!;

    [Inject]
    private AlertService Alerts { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override string RouteKey => $"endpoint:{Name}";

    protected override void OnInitialized() =>
        Live<IDomainEvent>(ReloadAsync, e => e.Subject == RouteKey || e.Subject.StartsWith(RouteKey + ":", StringComparison.Ordinal), TimeSpan.FromSeconds(1));

    protected override void ResetState() => (_endpoint, _missing, _message, _example) = (null, false, null, "");

    protected override async Task OnParametersSetAsync()
    {
        _actor = (await AuthenticationState).User.ToActor();
        _mayOperate = Endpoint.MayOperate(_actor);
        await ReloadAsync();
    }

    private Task ReloadAsync() => LoadAsync(async cancel =>
    {
        _endpoint = await Endpoints.FindAsync(Name, cancel);
        _missing = _endpoint is null;
        if (_endpoint is not { } endpoint)
        {
            return;
        }

        _alerts = (await Alerts.ListAsync(new AlertQuery(Endpoint: Name), cancel)).Alerts;
        _rules = await Alerts.RulesAsync(Name, cancel);
        var now = Time.GetUtcNow().UtcDateTime;
        var step = TimeSpan.FromSeconds(_minutes <= 5 ? 5 : _minutes <= 15 ? 10 : 30);
        var deployments = endpoint.Deployments.Select((d, i) => (Deployment: d, Index: i, Stats: Monitor.Find(Name, d.Name))).ToList();
        _series = [.. deployments.Select(d => new DeploymentSeries(d.Deployment.Name, d.Index, endpoint.Assignment.PercentOf(d.Deployment.Name),
            d.Stats?.Series(now.AddMinutes(-_minutes), now, step) ?? []))];
        _figures = deployments.Where(d => d.Stats is not null).ToDictionary(d => d.Deployment.Name, d => d.Stats!.Summarise(now - EndpointRow.Window, now));
        _drift = [.. deployments.Where(d => d.Stats?.LatestDrift is not null).Select(d => (d.Deployment.Name, d.Index, d.Stats!.LatestDrift!))];
        _mirrorFigures = [.. _figures.Where(f => f.Value.Mirrored > 0).Select(f => (f.Key, f.Value.Mirrored, f.Value.MirrorDisagreement))];
        var served = _figures.Sum(f => f.Value.Requests);
        _served = served == 0 ? [] : [.. _figures.Select(f => (f.Key, (int)Math.Round(100.0 * f.Value.Requests / served)))];
        _sampleTraffic = _figures.Sum(f => f.Value.SampleTraffic);
        _instances = [];
        foreach (var d in endpoint.Deployments)
        {
            _instances[d.Name] = await Backend.InstancesAsync(Name, d.Name, cancel);
        }

        _observation = endpoint.ActiveRollout is { } rollout ? RolloutWorker.Observe(Name, rollout, Monitor, now) : null;
        if (_example.Length == 0)
        {
            var route = Routes.Find(Name);
            _example = TryIt.Example(route?.Deployments.OrderByDescending(d => d.Weight).FirstOrDefault());
        }
    });

    private StatsSummary? Figures(Deployment deployment) => _figures.GetValueOrDefault(deployment.Name);

    private DriftReport? Drift(Deployment deployment) => _drift.FirstOrDefault(d => d.Deployment == deployment.Name).Report;

    private int Ready(Deployment deployment) => _instances.GetValueOrDefault(deployment.Name)?.Count(i => i.State == "Ready" && i.Generation == deployment.Generation) ?? 0;

    private static string Short(string reason) => reason.Split('\n')[0] is var first && first.Length > 160 ? first[..160] + "…" : reason.Split('\n')[0];

    private void Say(string message, Severity severity = Severity.Info) => (_message, _messageSeverity) = (message, severity);

    private async Task AddDeploymentAsync()
    {
        var taken = _endpoint!.Deployments.Select(d => d.Name).ToHashSet();
        var suggestion = new[] { "green", "blue", "canary", "challenger" }.FirstOrDefault(n => !taken.Contains(n)) ?? "";
        if (await Dialogs.OpenAsync<AddDeploymentDialog>($"Add a deployment to {Name}", new Dictionary<string, object?> { ["Endpoint"] = Name, ["SuggestedName"] = suggestion },
                MaxWidth.Medium) is string added)
        {
            Say($"Deployment {added} is starting; it takes no traffic until you give it some or start a canary.");
            await ReloadAsync();
        }
    }

    private async Task EditTrafficAsync()
    {
        if (await Dialogs.OpenAsync<TrafficDialog>($"Traffic of {Name}", new Dictionary<string, object?> { ["Endpoint"] = _endpoint }) is true)
        {
            Say("Traffic split applied.", Severity.Success);
            await ReloadAsync();
        }
    }

    private async Task StartCanaryAsync()
    {
        if (await Dialogs.OpenAsync<CanaryDialog>($"Canary on {Name}", new Dictionary<string, object?> { ["Endpoint"] = _endpoint }, MaxWidth.Medium) is true)
        {
            Say("Canary started; its progress shows below and updates live.");
            await ReloadAsync();
        }
    }

    private async Task StopRolloutAsync()
    {
        await ActAsync(() => Endpoints.StopRolloutAsync(Name, _actor, CancellationToken.None), "Rollout stopped; traffic went back to what it was before it.");
    }

    private async Task RollbackAsync()
    {
        if (await Dialogs.ConfirmAsync("Traffic goes back to the previous assignment at once. A rollout in progress stops.", $"Roll back {Name}?", "Roll back", "Cancel"))
        {
            await ActAsync(() => Endpoints.RollbackAsync(Name, _actor, CancellationToken.None), "Rolled back to the previous assignment.");
        }
    }

    private async Task RegenerateAsync(EndpointKey which)
    {
        if (!await Dialogs.ConfirmAsync($"Callers using the {which.ToString().ToLowerInvariant()} key are refused from now on; those using the other key are not.", $"Regenerate the {which.ToString().ToLowerInvariant()} key?", "Regenerate", "Cancel"))
        {
            return;
        }

        try
        {
            var key = await Endpoints.RegenerateKeyAsync(Name, which, _actor, CancellationToken.None);
            await Dialogs.OpenAsync<KeyDialog>($"New {which.ToString().ToLowerInvariant()} key of {Name}",
                new Dictionary<string, object?> { [which == EndpointKey.Primary ? "Primary" : "Secondary"] = key });
            await ReloadAsync();
        }
        catch (DomainException e)
        {
            Say(e.Message, Severity.Error);
        }
    }

    private async Task EditRuleAsync(AlertRule? rule)
    {
        if (await Dialogs.OpenAsync<AlertRuleDialog>(rule is null ? "New alert rule" : $"Alert rule {rule.Name}",
                new Dictionary<string, object?> { ["Endpoint"] = Name, ["Deployments"] = _endpoint!.Deployments.Select(d => d.Name).ToList(), ["Rule"] = rule }, MaxWidth.Medium) is true)
        {
            await ReloadAsync();
        }
    }

    private async Task DeleteRuleAsync(AlertRule rule)
    {
        if (await Dialogs.ConfirmAsync($"The rule '{rule.Name}' stops watching {Name}.", "Delete alert rule?", "Delete", "Cancel"))
        {
            await Alerts.DeleteRuleAsync(rule.Id, _actor, CancellationToken.None);
            await ReloadAsync();
        }
    }

    private async Task ActAsync(Func<Task> action, string done)
    {
        try
        {
            await action();
            Say(done, Severity.Success);
        }
        catch (DomainException e)
        {
            Say(e.Message, Severity.Error);
        }

        await ReloadAsync();
    }
}
