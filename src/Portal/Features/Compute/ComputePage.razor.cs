using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Options;
using MudBlazor;
using Portal.Domain.Compute;
using Portal.Infrastructure.Compute;
using Portal.Infrastructure.Configuration;
using Portal.Security;

namespace Portal.Features.Compute;

/// <summary>A run or deployment's use in the period, with who is behind it and where its page is.</summary>
public sealed record ConsumerRow(CostRow Row, string Label, string? User, string? Team, string? Link)
{
    public double GpuHours => Row.GpuHours;

    public double Efficiency => Row.Efficiency ?? -1;

    public decimal Cost => Row.Cost;

    public double Wasted => Row.WastedGpuHours;
}

/// <summary>
/// The fleet: heatmap, one GPU's timeline, efficiency per team, top consumers, idle allocations and the GPUs
/// themselves. Reloads (at most every few seconds) when readings arrive.
/// </summary>
public sealed partial class ComputePage
{
    private static readonly TimeSpan Coalesce = TimeSpan.FromSeconds(5);
    private MudDataGrid<ConsumerRow>? _consumers;
    private MudDataGrid<DeviceRow>? _devices;
    private string _period = "24h";
    private string _host = "";
    private string _compute = "";
    private string _team = "";
    private IReadOnlyList<string> _hosts = [];
    private IReadOnlyList<string> _computes = [];
    private IReadOnlyList<string> _teams = [];
    private IReadOnlyList<DeviceRow> _fleet = [];
    private IReadOnlyList<IdleRow> _idle = [];
    private IReadOnlyList<CostRow> _byTeam = [];
    private IReadOnlyList<ConsumerRow> _top = [];
    private Heatmap? _heatmap;
    private DeviceTimeline? _timeline;
    private double? _efficiency;
    private int _deviceId;
    private DateTime _updated;
    private IReadOnlyList<Portal.Domain.Monitoring.Alert> _alerts = [];
    private Portal.Domain.Common.Actor _actor = Portal.Domain.Common.Actor.Anonymous;

    [Inject]
    private Portal.Infrastructure.Monitoring.AlertService Alerts { get; set; } = default!;

    [CascadingParameter]
    private Task<Microsoft.AspNetCore.Components.Authorization.AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private TelemetryQueries Queries { get; set; } = default!;

    [Inject]
    private CostReports Reports { get; set; } = default!;

    [Inject]
    private IOptions<PortalOptions> Options { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    private int IdleWindow => Options.Value.Telemetry.IdleWindowMinutes;

    private double IdleBelow => Options.Value.Telemetry.IdleBusyBelow;

    private double? BusyNow => _fleet.Where(d => !d.Stale && d.Device.LastBusy is not null).Select(d => d.Device.LastBusy!.Value).DefaultIfEmpty(double.NaN).Average() is var v && double.IsFinite(v) ? v : null;

    private double WastedHours => _idle.Where(i => i.Stretch.Flagged).Sum(i => i.IdleSecondsInPeriod) / 3600;

    private decimal WastedCost => _idle.Where(i => i.Stretch.Flagged).Sum(i => i.Cost);

    private string Currency => Reports.Currency;

    protected override void OnInitialized() => Live<GpuTelemetryIngested>(RefreshAsync, coalesce: Coalesce);

    protected override async Task OnInitializedAsync()
    {
        _actor = (await AuthenticationState).User.ToActor();
        await LoadAsync(async token =>
        {
            _hosts = await Queries.HostsAsync(token);
            _computes = await Queries.ComputesAsync(token);
            await LoadFiguresAsync(token);
        });
    }

    private (DateTime From, DateTime To) Range()
    {
        var now = Time.GetUtcNow().UtcDateTime;
        return (Period.Recent.FirstOrDefault(p => p.Key == _period) ?? Period.Recent[2]).Range(now);
    }

    private FleetFilter Filter => new(Blank(_host), Blank(_compute));

    private async Task LoadFiguresAsync(CancellationToken token)
    {
        var (from, to) = Range();
        _fleet = await Queries.FleetAsync(Filter, token);
        if (_deviceId == 0 || _fleet.All(d => d.Device.Id != _deviceId))
        {
            _deviceId = _fleet.FirstOrDefault(d => d.OwnerLabel is not null)?.Device.Id ?? _fleet.FirstOrDefault()?.Device.Id ?? 0;
        }

        _heatmap = await Queries.HeatmapAsync(from, to, Filter, 168, token);
        _timeline = _deviceId == 0 ? null : await Queries.TimelineAsync(_deviceId, from, to, 240, token);
        // One pricing of the period serves the team chart (every team) and the consumers (the chosen team).
        var costFilter = new CostFilter(Blank(_team), Blank(_compute));
        var period = await Reports.PeriodAsync(from, to, costFilter, token);
        _byTeam = period.Report(CostGroup.Team, new CostFilter(Compute: Blank(_compute))).Rows;
        _teams = _byTeam.Select(r => r.Key).Order(StringComparer.Ordinal).ToList();
        var owners = period.Report(CostGroup.Owner, costFilter);
        _efficiency = CostMath.Efficiency(owners.Rows.Sum(r => (r.Efficiency ?? 0) * r.GpuHours), owners.Rows.Where(r => r.Efficiency is not null).Sum(r => r.GpuHours));
        _top = Consumers(owners.Rows, period.Owners);
        _idle = await Queries.IdleAsync(from, to, Blank(_team), token);
        _alerts = (await Alerts.ListAsync(new Portal.Infrastructure.Monitoring.AlertQuery(SourcePrefixes: ["run:", "deployment:"]), token)).Alerts;
        _updated = Time.GetUtcNow().UtcDateTime;
        if (_consumers is not null)
        {
            await _consumers.ReloadServerData();
        }

        if (_devices is not null)
        {
            await _devices.ReloadServerData();
        }
    }

    private static IReadOnlyList<ConsumerRow> Consumers(IReadOnlyList<CostRow> rows, IReadOnlyDictionary<string, UsageOwnerRow> owners) =>
        rows.Select(r =>
        {
            owners.TryGetValue(r.Key, out var o);
            var link = UsageOwner.Parse(r.Key) is { } owner
                ? owner.Kind == UsageKind.Run ? $"/runs/{owner.Id}" : $"/deployments/{owner.Id}/{owner.Deployment}"
                : null;
            return new ConsumerRow(r, o?.Label ?? r.Key, o?.User, o?.Team, link);
        }).ToList();

    private Task RefreshAsync() => LoadAsync(LoadFiguresAsync);

    private Task PeriodChangedAsync(string value)
    {
        _period = value;
        return RefreshAsync();
    }

    private Task HostChangedAsync(string value)
    {
        _host = value;
        return RefreshAsync();
    }

    private Task ComputeChangedAsync(string value)
    {
        _compute = value;
        return RefreshAsync();
    }

    private Task TeamChangedAsync(string value)
    {
        _team = value;
        return RefreshAsync();
    }

    private Task DeviceChangedAsync(int value)
    {
        _deviceId = value;
        var (from, to) = Range();
        return LoadAsync(async token => _timeline = await Queries.TimelineAsync(value, from, to, 240, token));
    }

    private Task<GridData<ConsumerRow>> LoadConsumersAsync(GridState<ConsumerRow> state, CancellationToken token)
    {
        var (key, descending) = GridSort<ConsumerRow>.Of(state);
        var rows = key switch
        {
            "Label" => GridSort<ConsumerRow>.Order(_top, r => r.Label, descending),
            "GpuHours" => GridSort<ConsumerRow>.Order(_top, r => r.GpuHours, descending),
            "Efficiency" => GridSort<ConsumerRow>.Order(_top, r => r.Efficiency, descending),
            "Wasted" => GridSort<ConsumerRow>.Order(_top, r => r.Wasted, descending),
            _ => GridSort<ConsumerRow>.Order(_top, r => r.Cost, key is null || descending),
        };
        return Task.FromResult(GridSort<ConsumerRow>.Page(rows, state, _top.Count));
    }

    private Task<GridData<DeviceRow>> LoadDevicesAsync(GridState<DeviceRow> state, CancellationToken token)
    {
        var (key, descending) = GridSort<DeviceRow>.Of(state);
        var rows = key switch
        {
            "Busy" => GridSort<DeviceRow>.Order(_fleet, d => d.Device.LastBusy ?? -1, descending),
            "Memory" => GridSort<DeviceRow>.Order(_fleet, d => d.Device.LastMemoryUsedMiB ?? -1, descending),
            "Holder" => GridSort<DeviceRow>.Order(_fleet, d => d.OwnerLabel ?? "", descending),
            _ => GridSort<DeviceRow>.Order(_fleet, d => d.Device.Host + "/" + (d.Device.Index ?? 0).ToString("000", CultureInfo.InvariantCulture) + d.Device.DeviceKey, descending),
        };
        return Task.FromResult(GridSort<DeviceRow>.Page(rows, state, _fleet.Count));
    }


    private static string? Blank(string value) => string.IsNullOrWhiteSpace(value) ? null : value;

    internal static string Percent(double? value) => value is { } v && double.IsFinite(v) ? v.ToString("0.#%", CultureInfo.InvariantCulture) : "–";

    internal static string Hours(double value) => value.ToString(value < 10 ? "0.##" : "N0", CultureInfo.InvariantCulture);

    private string Money(decimal value) => $"{value.ToString("N2", CultureInfo.InvariantCulture)} {Currency}";

    private static string Memory(GpuDevice device) => device.LastMemoryUsedMiB is { } used
        ? device.MemoryTotalMiB is > 0 ? $"{used / 1024:0.#} / {device.MemoryTotalMiB.Value / 1024:0} GiB" : $"{used / 1024:0.#} GiB"
        : "–";

    private static string Duration(double minutes) => minutes >= 120 ? $"{minutes / 60:0.#} h" : $"{minutes:0} min";
}
