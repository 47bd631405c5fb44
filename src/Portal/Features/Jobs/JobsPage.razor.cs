using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Domain.Common;
using Portal.Domain.Jobs;
using Portal.Domain.Sweeps;
using Portal.Infrastructure.Jobs;
using Portal.Security;

namespace Portal.Features.Jobs;

/// <summary>Submit a job or a sweep, and watch the queue live.</summary>
public sealed partial class JobsPage
{
    /// <summary>What "Start from" fills in: the samples in docs/samples, or a blank command.</summary>
    private static readonly Dictionary<string, (string Experiment, string Command, string? Code, Dictionary<string, string> Params, string Objective)> Templates = new(StringComparer.Ordinal)
    {
        ["Classifier sample (scikit-learn)"] = ("credit-risk-classifier", "python3 train_classifier.py", "sklearn",
            new() { ["n_estimators"] = "60", ["max_depth"] = "3", ["learning_rate"] = "0.1" }, "val_auc"),
        ["Regressor sample (scikit-learn)"] = ("credit-risk-regressor", "python3 train_regressor.py", "sklearn",
            new() { ["n_estimators"] = "80", ["max_depth"] = "3" }, "val_r2"),
        ["Custom command"] = ("my-experiment", "", null, [], "loss"),
    };

    private readonly List<Row> _inputs = [];
    private readonly List<Row> _params = [];
    private string _template = "Classifier sample (scikit-learn)";
    private string? _experiment;
    private string? _runName;
    private string? _command;
    private string? _codePath;
    private string _compute = "local";
    private double? _timeoutMinutes;
    private bool _asSweep;
    private SweepStrategy _strategy = SweepStrategy.Grid;
    private string? _objective;
    private ObjectiveDirection _direction = ObjectiveDirection.Maximize;
    private int _maxTrials = 12;
    private int _maxConcurrent = 2;
    private int _tab;
    private bool _busy;
    private bool _canSubmit;
    private Actor _actor = Actor.Anonymous;
    private string? _problem;
    private string? _message;
    private FieldErrors _errors = new();
    private IReadOnlyList<string> _samples = [];
    private IReadOnlyList<string> _datasetChoices = [];
    private IReadOnlyList<Job> _queue = [];
    private IReadOnlyList<Sweep> _sweeps = [];

    [SupplyParameterFromQuery(Name = "tab")]
    public string? Tab { get; set; }

    [Inject]
    private JobService Jobs { get; set; } = default!;

    [Inject]
    private SweepService Sweeps { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _actor = (await AuthenticationState).User.ToActor();
        _canSubmit = JobService.CanSubmit(_actor);
        _samples = Jobs.Samples();
        _datasetChoices = await Jobs.InputChoicesAsync(Showing);
        _tab = Tab switch { "queue" => 1, "sweeps" => 2, _ => 0 };
        ApplyTemplate();
        await LoadQueueAsync();
        Live<JobStatusChanged>(LoadQueueAsync);
    }

    private void ApplyTemplate()
    {
        var (experiment, command, code, parameters, objective) = Templates[_template];
        (_experiment, _command, _codePath, _objective) = (experiment, command, code, objective);
        _params.Clear();
        _params.AddRange(parameters.Select(p => new Row { Name = p.Key, Value = p.Value }));
        _inputs.Clear();
        if (code is not null && _datasetChoices.FirstOrDefault(c => c.StartsWith("dataset:credit-risk:", StringComparison.Ordinal)) is not null)
        {
            _inputs.Add(new Row { Name = "train", Reference = "dataset:credit-risk:1" });
        }

        _errors = new FieldErrors();
    }

    private async Task LoadQueueAsync()
    {
        _queue = await Jobs.RecentAsync(100, Showing);
        _sweeps = await Sweeps.RecentAsync(50, Showing);
    }

    private IReadOnlyList<string> Errors(string field) => _errors.For(field);

    private async Task SubmitAsync()
    {
        _busy = true;
        _problem = null;
        _errors = new FieldErrors();
        var actor = (await AuthenticationState).User.ToActor();
        var inputs = _inputs.Where(i => !string.IsNullOrWhiteSpace(i.Name) || !string.IsNullOrWhiteSpace(i.Reference))
            .GroupBy(i => i.Name?.Trim() ?? "", StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last().Reference ?? "", StringComparer.Ordinal);
        var named = _params.Where(p => !string.IsNullOrWhiteSpace(p.Name)).ToList();
        try
        {
            var request = new JobRequest(_experiment, _command, _codePath, inputs, _asSweep ? null : named.ToDictionary(p => p.Name!.Trim(), p => p.Value ?? "", StringComparer.Ordinal),
                _compute, _timeoutMinutes, string.IsNullOrWhiteSpace(_runName) ? null : _runName);
            if (_asSweep)
            {
                var space = named.Select(p => SpaceOf(p.Name!.Trim(), p.Value ?? "")).ToList();
                var sweep = await Sweeps.CreateAsync(new SweepRequest(request, _runName, _strategy, space, _objective, _direction, _maxTrials, _maxConcurrent, Environment.TickCount), actor, Showing);
                Navigation.NavigateTo($"/sweeps/{sweep.Id}");
            }
            else
            {
                var job = await Jobs.SubmitAsync(request, actor, Showing);
                Navigation.NavigateTo($"/runs/{job.RunId}");
            }
        }
        catch (InvalidInputException e)
        {
            _errors = e.Errors;
        }
        catch (NotPermittedException e)
        {
            _problem = e.Message;
        }
        catch (DomainException e)
        {
            _errors = new FieldErrors().Add(e.Message.StartsWith("space", StringComparison.Ordinal) ? "space" : "sweep", e.Message);
        }
        finally
        {
            _busy = false;
        }
    }

    /// <summary>"2, 4, 6" are choices; "0.01..0.3" a range, "0.001..0.1 log" a log range, "1..10 int" an integer range.</summary>
    internal static ParamSpace SpaceOf(string name, string text)
    {
        var parts = text.Split("..", 2, StringSplitOptions.TrimEntries);
        if (parts.Length == 2)
        {
            var flags = parts[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var min = double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var lo) ? lo : (double?)null;
            var max = flags.Length > 0 && double.TryParse(flags[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var hi) ? hi : (double?)null;
            return new ParamSpace(name, null, min, max, flags.Contains("int"), flags.Contains("log"));
        }

        return new ParamSpace(name, [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]);
    }

    private async Task CancelAsync(string jobId)
    {
        var (_, message) = await Jobs.CancelAsync(jobId, (await AuthenticationState).User.ToActor(), Showing);
        _message = message;
        await LoadQueueAsync();
    }

    private sealed class Row
    {
        public string? Name { get; set; }

        public string? Value { get; set; }

        public string? Reference { get; set; }
    }
}
