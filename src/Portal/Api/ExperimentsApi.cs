using System.Globalization;
using Portal.Domain.Experiments;
using Portal.Features.Navigation;
using Portal.Infrastructure.Experiments;

namespace Portal.Api;

internal static class ExperimentsApi
{
    public const int MaxExportRows = RunSearch.MaxResults;

    public static void MapExperimentsApi(this RouteGroupBuilder api)
    {
        var experiments = api.MapGroup("/experiments").WithTags("Experiments").RequireAuthorization(PortalAreas.Policies.Experiments);
        experiments.MapGet("/{experimentId}/runs.csv", ExportAsync)
            .WithSummary("Runs as CSV (formula-safe), filtered and ordered like the runs table; columns like metrics.auc,params.depth");
    }

    private static async Task<IResult> ExportAsync(string experimentId, RunSearch search, TrackingStore store, CancellationToken cancellationToken,
        string? filter = null, string? orderBy = null, string? columns = null)
    {
        try
        {
            var experiment = await store.GetExperimentAsync(experimentId, cancellationToken);
            var page = await search.SearchAsync(new RunQuery([experiment.Id], filter, orderBy, 0, MaxExportRows), cancellationToken);
            var chosen = (columns ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(c => c.Split('.', 2)).Where(c => c.Length == 2 && c[0] is "metrics" or "params" or "tags").ToList();
            if (chosen.Count == 0)
            {
                var available = await search.ColumnsAsync([experiment.Id], cancellationToken);
                chosen = [.. available.Metrics.Select(k => new[] { "metrics", k }), .. available.Params.Select(k => new[] { "params", k })];
            }

            var header = new List<string?> { "run_id", "run_name", "status", "user", "start_time", "end_time" };
            header.AddRange(chosen.Select(c => $"{c[0]}.{c[1]}"));
            var rows = new List<IEnumerable<string?>> { header };
            rows.AddRange(page.Items.Select(run => new List<string?>
                {
                    run.Id, run.Name, run.Status.Wire(), run.UserId, run.StartTime.ToString("O", CultureInfo.InvariantCulture), run.EndTime?.ToString("O", CultureInfo.InvariantCulture),
                }.Concat(chosen.Select(c => Cell(run, c[0], c[1])))));
            var bytes = System.Text.Encoding.UTF8.GetPreamble().Concat(System.Text.Encoding.UTF8.GetBytes(SafeCsv.Write(rows))).ToArray();
            return TypedResults.File(bytes, "text/csv; charset=utf-8", $"{experiment.Name}-runs.csv");
        }
        catch (TrackingException e)
        {
            return TypedResults.Problem(statusCode: e.Error == TrackingError.ResourceDoesNotExist ? 404 : 400, title: e.Code, detail: e.Message);
        }
    }

    private static string? Cell(Run run, string kind, string key) => kind switch
    {
        "metrics" => run.Metrics.TryGetValue(key, out var m) ? m.Value.ToString("R", CultureInfo.InvariantCulture) : null,
        "params" => run.Params.GetValueOrDefault(key),
        _ => run.Tags.GetValueOrDefault(key),
    };
}
