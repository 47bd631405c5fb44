using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Endpoint = Portal.Domain.Deployments.Endpoint;
using Portal.Domain.Monitoring;
using Portal.Infrastructure.Deployments;
using Portal.Infrastructure.Monitoring;
using Portal.Infrastructure.Serving;
using Portal.Security;

namespace Portal.Features.Deployments;

/// <summary>Endpoints with health, traffic, rate, latency, errors and drift; open alerts above. Live.</summary>
public sealed partial class DeploymentsPage
{
    private MudDataGrid<EndpointRow>? _grid;
    private string? _filter;
    private Actor _actor = Actor.Anonymous;
    private bool _mayOperate;
    private IReadOnlyList<Alert> _alerts = [];

    [Inject]
    private EndpointService Endpoints { get; set; } = default!;

    [Inject]
    private ServingMonitor Monitor { get; set; } = default!;

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

    protected override async Task OnInitializedAsync()
    {
        _actor = (await AuthenticationState).User.ToActor();
        _mayOperate = Endpoint.MayOperate(_actor);
        _alerts = (await Alerts.ListAsync(new AlertQuery(SourcePrefixes: ["endpoint:"]), Showing)).Alerts;
    }

    protected override void OnInitialized()
    {
        Live<IDomainEvent>(ReloadAsync, e => e.Subject.StartsWith("endpoint:", StringComparison.Ordinal), TimeSpan.FromSeconds(2));
    }

    private async Task ReloadAsync()
    {
        _alerts = (await Alerts.ListAsync(new AlertQuery(SourcePrefixes: ["endpoint:"]), Showing)).Alerts;
        if (_grid is not null)
        {
            await _grid.ReloadServerData();
        }
    }

    private async Task<GridData<EndpointRow>> LoadAsync(GridState<EndpointRow> state, CancellationToken token)
    {
        var now = Time.GetUtcNow().UtcDateTime;
        var rows = (await Endpoints.ListAsync(token))
            .Where(e => string.IsNullOrWhiteSpace(_filter) || e.Name.Contains(_filter.Trim(), StringComparison.OrdinalIgnoreCase))
            .Select(e => EndpointRow.Of(e, Monitor, now));
        var (key, descending) = GridSort<EndpointRow>.Of(state);
        rows = key switch
        {
            "Health" => GridSort<EndpointRow>.Order(rows, r => r.Health is { } h ? EndpointRow.Rank(h) : 9, descending),
            "Rate" => GridSort<EndpointRow>.Order(rows, r => r.RequestsPerSecond, descending),
            "P95" => GridSort<EndpointRow>.Order(rows, r => r.P95Ms ?? -1, descending),
            "Errors" => GridSort<EndpointRow>.Order(rows, r => r.ErrorRate ?? -1, descending),
            "Drift" => GridSort<EndpointRow>.Order(rows, r => r.Drift ?? -1, descending),
            _ => GridSort<EndpointRow>.Order(rows, r => r.Endpoint.Name, descending),
        };
        var all = rows.ToList();
        return new GridData<EndpointRow> { Items = all.Skip(GridSort<EndpointRow>.Skip(state)).Take(state.PageSize).ToList(), TotalItems = all.Count };
    }


    internal static IReadOnlyList<(string Name, int Percent)> Shares(Endpoint endpoint) =>
        [.. endpoint.Deployments.Select(d => (d.Name, endpoint.Assignment.PercentOf(d.Name)))];

    internal static (string Name, int Percent)? Mirror(Endpoint endpoint) =>
        endpoint.Assignment.MirrorDeployment is { } mirror ? (mirror, endpoint.Assignment.MirrorPercent) : null;

    internal static string Ms(double? value) => value is { } v ? $"{v.ToString(v < 10 ? "0.0" : "0", System.Globalization.CultureInfo.InvariantCulture)} ms" : "–";

    internal static string Share(double? value) => value is { } v ? v.ToString("0.#%", System.Globalization.CultureInfo.InvariantCulture) : "–";

    private async Task NewEndpointAsync()
    {
        if (await Dialogs.OpenAsync<NewEndpointDialog>("New endpoint", width: MaxWidth.Medium) is string name)
        {
            Navigation.NavigateTo($"/deployments/{name}");
        }
    }
}
