using System.Globalization;
using Microsoft.AspNetCore.Components;
using Portal.Domain.Models;
using Portal.Features.Experiments;
using Portal.Infrastructure.Models;

namespace Portal.Features.Models;

/// <summary>Two versions of one model side by side: facts, checks, run metrics and signature, with differing rows marked; holdout scores charted together.</summary>
public sealed partial class CompareVersionsPage
{
    private IReadOnlyList<int?> _numbers = [];
    private ModelVersion? _a;
    private ModelVersion? _b;
    private string? _problem;

    [Parameter]
    public string Name { get; set; } = "";

    [SupplyParameterFromQuery(Name = "a")]
    public int? A { get; set; }

    [SupplyParameterFromQuery(Name = "b")]
    public int? B { get; set; }

    [Inject]
    private ModelRegistry Registry { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    protected override Task OnParametersSetAsync() => LoadAsync(async cancel =>
    {
        var versions = await Registry.VersionsAsync(Name, cancel);
        _numbers = [.. versions.Select(v => (int?)v.Version)];
        _a = versions.FirstOrDefault(v => v.Version == A);
        _b = versions.FirstOrDefault(v => v.Version == B);
        _problem = versions.Count == 0 ? $"There is no model {Name}."
            : _a is null || _b is null ? "Choose two versions of this model."
            : null;
    });

    private Task GoAsync()
    {
        Navigation.NavigateTo($"/models/{Name}/compare?a={A}&b={B}");
        return Task.CompletedTask;
    }

    private static IEnumerable<(string Label, string Left, string Right)> Rows(ModelVersion a, ModelVersion b)
    {
        yield return ("State", a.State.ToString(), b.State.ToString());
        yield return ("Author", a.Author, b.Author);
        yield return ("Registered", Date(a.CreatedAt), Date(b.CreatedAt));
        yield return ("Source run", a.SourceRunId, b.SourceRunId);
        yield return ("Artifact SHA-256", a.ArtifactHash[..12], b.ArtifactHash[..12]);
        yield return ("Training data", string.Join(", ", a.TrainingDatasets), string.Join(", ", b.TrainingDatasets));
        foreach (var check in ModelChecks.All)
        {
            yield return ($"Check: {ModelChecks.Title(check)}", Check(a, check), Check(b, check));
        }

        yield return ("Holdout score", Score(a.Evaluation), Score(b.Evaluation));
        foreach (var key in a.Metrics.Keys.Union(b.Metrics.Keys).Order(StringComparer.Ordinal))
        {
            yield return ($"Metric: {key}", Metric(a, key), Metric(b, key));
        }

        yield return ("Signature", string.Join(", ", a.Signature.Select(c => $"{c.Name}:{c.Type}")), string.Join(", ", b.Signature.Select(c => $"{c.Name}:{c.Type}")));
    }

    private static string Date(DateTime at) => at.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    private static string Check(ModelVersion v, string name) => v.Checks.FirstOrDefault(c => c.Name == name)?.Status.ToString() ?? "–";

    private static string Metric(ModelVersion v, string key) => v.Metrics.TryGetValue(key, out var value) ? RunFormat.Number(value) : "–";

    private static string Score(ModelEvaluation? e) => e is null ? "–" : $"{e.Metric} {RunFormat.Number(e.Candidate)} on {e.HoldoutDataset}";

    private static IList<Plotly.Blazor.ITrace> Traces(ModelVersion a, ModelVersion b) =>
    [.. new[] { a, b }.Where(v => v.Evaluation is not null).Select(v => (Plotly.Blazor.ITrace)Plots.Bars(
        $"v{v.Version}",
        new[] { "overall" }.Concat(v.Evaluation!.Slices.Select(s => s.Slice)),
        new[] { (double?)v.Evaluation.Candidate }.Concat(v.Evaluation.Slices.Select(s => s.Candidate))))];
}
