using Portal.Components.Charts;
using Portal.Components.Layout;
using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Jobs;
using Portal.Domain.Ports;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Jobs;
using Portal.Infrastructure.Persistence;
using Microsoft.JSInterop;
using MudBlazor;
using Portal.Security;

namespace Portal.Features.Experiments;

/// <summary>
/// One run: metric charts and the log tail stream while it runs (events coalesced to two updates a
/// second), params, tags, artifacts with download, inputs and system facts.
/// </summary>
public sealed partial class RunPage
{
    private const int LogKeptChars = 200_000;
    private const int LogsTab = 2;
    private readonly Dictionary<string, Series> _series = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (double? From, double? To)> _zoom = new(StringComparer.Ordinal);
    private Run? _run;
    private Job? _job;
    private string? _experimentName;
    private string? _parentName;
    private ElementReference _logView;
    private bool _missing;
    private bool _canSubmit;
    private int _tab;
    private IReadOnlyCollection<string> _chartKeys = [];
    private IReadOnlyList<RunArtifact> _artifacts = [];
    private string _log = "";
    private string? _rawRefusal;
    private Actor _actor = Actor.Anonymous;
    private long _logOffset;
    private long _logDropped;
    private string? _message;

    [Parameter]
    public string RunId { get; set; } = "";

    [Inject]
    private TrackingStore Tracking { get; set; } = default!;

    [Inject]
    private PageTrail Trail { get; set; } = default!;

    [Inject]
    private MetricSeries Series { get; set; } = default!;

    [Inject]
    private RunArtifacts Artifacts { get; set; } = default!;

    [Inject]
    private JobService Jobs { get; set; } = default!;

    [Inject]
    private Portal.Infrastructure.Datasets.DatasetCatalog Datasets { get; set; } = default!;

    [Inject]
    private IWorkspaceBackend Backend { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override string RouteKey => RunId;

    protected override void OnInitialized()
    {
        Live<IRunEvent>(RefreshAsync, e => e.RunId == RunId);
        Live<JobLogGrew>(ReadLogAsync, e => e.RunId == RunId);
    }

    protected override void ResetState()
    {
        // Another run (the parent-run link): nothing of this one's charts, zoom or log carries over.
        _series.Clear();
        _zoom.Clear();
        (_run, _job, _experimentName, _parentName, _missing, _message, _rawRefusal) = (null, null, null, null, false, null, null);
        (_chartKeys, _artifacts, _log, _logOffset, _logDropped, _tab) = ([], [], "", 0, 0, 0);
    }

    protected override Task OnParametersSetAsync() => LoadAsync(async cancel =>
    {
        _canSubmit = JobService.CanSubmit((await AuthenticationState).User.ToActor());
        _run = await Tracking.FindRunAsync(RunId, cancel);
        if (_run is null)
        {
            _missing = true;
            return;
        }

        _experimentName = (await Tracking.GetExperimentAsync(_run.ExperimentId.ToString(CultureInfo.InvariantCulture), cancel)).Name;
        _parentName = _run.ParentRunId is { } parent ? (await Tracking.FindRunAsync(parent, cancel))?.Name : null;
        Trail.Set($"/runs/{RunId}", ("Experiments", "/experiments"), (_experimentName, $"/experiments/{_run.ExperimentId}"), (_run.Name, null));
        // The server refuses the files and log of a run made from personal data to those who may not read it; the page says so.
        var actor = _actor = (await AuthenticationState).User.ToActor();
        var sensitive = Portal.Domain.Datasets.PersonalData.MayReadRaw(actor) ? [] : await Datasets.SensitiveAmongAsync(_run.Inputs, cancel);
        _rawRefusal = sensitive.Count == 0 ? null
            : Portal.Domain.Datasets.PersonalData.Refusal($"This run read {string.Join(", ", sensitive.Select(x => x.Reference))}, which",
                sensitive.SelectMany(x => x.Columns).Distinct(StringComparer.Ordinal)) + " Its log and files may hold those values, so they are not shown to you.";
        _chartKeys = [.. _run.Metrics.Keys.Order(StringComparer.Ordinal).Take(6)];
        await RefreshAsync();
    });

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (_tab == LogsTab && _job is not null && _rawRefusal is null)
        {
            // Keeps the newest output in view unless the reader scrolled up to read something.
            await JS.InvokeVoidAsync("portal.followLog", _logView);
        }
    }

    private async Task RefreshAsync()
    {
        _run = await Tracking.FindRunAsync(RunId, Showing) ?? _run;
        _job = await Jobs.FindByRunAsync(RunId, Showing);
        if (_run is not null && !_chartKeys.Any() && _run.Metrics.Count > 0)
        {
            _chartKeys = [.. _run.Metrics.Keys.Order(StringComparer.Ordinal).Take(6)];
        }

        _artifacts = await Artifacts.ListAsync(RunId, null, Showing);
        await ReloadChartsAsync();
        await ReadLogAsync();
    }

    private async Task ReloadChartsAsync()
    {
        foreach (var key in _chartKeys)
        {
            var (from, to) = _zoom.GetValueOrDefault(key);
            _series[key] = await Series.ReadAsync(RunId, key, from is null ? null : (long)Math.Floor(from.Value), to is null ? null : (long)Math.Ceiling(to.Value), MetricSeries.DefaultMaxPoints, Showing);
        }
    }

    private async Task ZoomAsync(string key, (double? From, double? To) range)
    {
        _zoom[key] = range;
        var (from, to) = range;
        _series[key] = await Series.ReadAsync(RunId, key, from is null ? null : (long)Math.Floor(from.Value), to is null ? null : (long)Math.Ceiling(to.Value), MetricSeries.DefaultMaxPoints, Showing);
        StateHasChanged();
    }

    private async Task ReadLogAsync()
    {
        if (_job is null || _rawRefusal is not null)
        {
            return;
        }

        // Read what is new since the last read; keep the tail on screen.
        for (var i = 0; i < 8; i++)
        {
            var chunk = await Backend.ReadLogAsync(_job.Id, _logOffset, 256 * 1024, Showing);
            _logDropped = chunk.DroppedBytes;
            if (chunk.NextOffset == _logOffset)
            {
                break;
            }

            _logOffset = chunk.NextOffset;
            _log += chunk.Text;
        }

        if (_log.Length > LogKeptChars)
        {
            _log = "…\n" + _log[^LogKeptChars..];
        }
    }

    private async Task CancelAsync()
    {
        if (_job is null)
        {
            return;
        }

        var (_, message) = await Jobs.CancelAsync(_job.Id, (await AuthenticationState).User.ToActor(), Showing);
        _message = message;
        await RefreshAsync();
    }

    private IList<Plotly.Blazor.ITrace> Trace(string key)
    {
        var series = _series.GetValueOrDefault(key);
        var points = series?.Points ?? [];
        return [Plots.Series(key, points.Select(p => p.Step), points.Select(p => p.Value), markersOnly: points.Count == 1)];
    }

    private static Plotly.Blazor.Layout ChartLayout(string key) => Plots.Axes("step", key, legend: false);

    private IEnumerable<(string, string)> SystemRows()
    {
        if (_run is null)
        {
            yield break;
        }

        yield return ("Run id", _run.Id);
        yield return ("Duration", RunFormat.Duration(_run, Time.UtcNow()));
        yield return ("Ended", _run.EndTime?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "—");
        if (_job is { } job)
        {
            yield return ("Job", $"{job.Id} ({job.Status})");
            yield return ("Command", job.Command);
            yield return ("Compute", job.Compute);
            yield return ("Exit code", job.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "—");
            if (job.Reason is { } reason)
            {
                yield return ("Reason", reason);
            }
        }

        // Local CPU jobs have no GPU; GPU-seconds come from GPU telemetry when a run's host reports it.
        yield return ("GPU-seconds", _run.Metrics.TryGetValue("system.gpu_seconds", out var gpu) ? RunFormat.Number(gpu.Value) : "not measured (no GPU telemetry for this run)");
    }

    private async Task RegisterModelAsync()
    {
        // An MLflow model folder (model/MLmodel) is offered as the folder, first: that is what log_model made.
        var folders = _artifacts.Select(a => a.Path).Where(p => p.EndsWith("/" + Portal.Domain.Models.MlflowModel.FileName, StringComparison.Ordinal))
            .Select(p => p[..^(Portal.Domain.Models.MlflowModel.FileName.Length + 1)])
            .Where(f => f != "metadata" && !f.EndsWith("/metadata", StringComparison.Ordinal)); // MLflow keeps a copy of MLmodel in metadata/
        var paths = folders.Concat(_artifacts.Select(a => a.Path).Where(p => p != "job.log")).ToList();
        if (await Dialogs.OpenAsync<Features.Models.RegisterModelDialog>("Register a model version",
                new Dictionary<string, object?> { ["RunId"] = RunId, ["ArtifactPaths"] = paths }) is string link)
        {
            Navigation.NavigateTo(link);
        }
    }
}
