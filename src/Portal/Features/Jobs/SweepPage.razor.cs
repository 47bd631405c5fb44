using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Components.Layout;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Sweeps;
using Portal.Infrastructure.Jobs;
using Portal.Security;

namespace Portal.Features.Jobs;

/// <summary>A sweep's trials ranked live by the objective, with the objective per trial and param importance.</summary>
public sealed partial class SweepPage
{
    private Sweep? _sweep;
    private List<SweepTrial> _trials = [];
    private IReadOnlyList<ParamImportance> _importance = [];
    private bool _loaded;
    private bool _canSubmit;
    private Actor _actor = Actor.Anonymous;

    [Parameter]
    public string SweepId { get; set; } = "";

    [Inject]
    private SweepService Sweeps { get; set; } = default!;

    [Inject]
    private PageTrail Trail { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private int Finished => _trials.Count(t => t.Run.Status.IsTerminal());

    protected override string RouteKey => SweepId;

    protected override void OnInitialized() =>
        Live<IRunEvent>(ReloadAsync, e => _sweep is not null && e.ExperimentId == _sweep.ExperimentId, TimeSpan.FromSeconds(1));

    protected override void ResetState() => (_sweep, _trials, _importance, _loaded) = (null, [], [], false);

    protected override async Task OnParametersSetAsync()
    {
        _actor = (await AuthenticationState).User.ToActor();
        _canSubmit = JobService.CanSubmit(_actor);
        await ReloadAsync();
    }

    private Task ReloadAsync() => LoadAsync(async cancel =>
    {
        _sweep = await Sweeps.FindAsync(SweepId, cancel);
        _loaded = true;
        if (_sweep is not null)
        {
            Trail.Set($"/sweeps/{SweepId}", ("Jobs & Sweeps", "/jobs"), (_sweep.Name, null));
            _trials = [.. await Sweeps.TrialsAsync(_sweep, cancel)];
            _importance = SweepService.Importance(_sweep, _trials);
        }
    });

    private async Task CancelAsync()
    {
        await Sweeps.CancelAsync(SweepId, (await AuthenticationState).User.ToActor(), Showing);
        await ReloadAsync();
    }

    private IList<Plotly.Blazor.ITrace> ObjectiveTrace()
    {
        var ordered = _trials.OrderBy(t => t.Run.StartTime).ToList();
        return [Plots.Points(Enumerable.Range(1, ordered.Count).Cast<object?>(), ordered.Select(t => (object?)t.Objective), ordered.Select(t => t.Run.Name), size: 10)];
    }

    private IList<Plotly.Blazor.ITrace> ImportanceTrace() => [Plots.HorizontalBars(null, _importance.Select(i => i.Importance), _importance.Select(i => i.Param))];

    private static Plotly.Blazor.Layout ImportanceLayout()
    {
        var layout = Plots.Axes("|correlation| with the objective", legend: false, margin: Plots.Margin(120, 20, 30, 40));
        layout.XAxis[0].Range = [0, 1];
        return layout;
    }
}
