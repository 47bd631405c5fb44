using System.Security.Claims;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Models;
using Portal.Security;

namespace Portal.Api;

/// <summary>
/// MLflow's artifacts: the artifact proxy (mlflow-artifacts:/ URIs) for runs and for registered versions'
/// bound files, and the run-based list, named as MLflow's server names them.
/// </summary>
internal static partial class MlflowApi
{
    /// <summary>MLflow's run-based list: paths relative to the run's artifact root, folders with is_dir.</summary>
    private static async Task<IResult> ListRunArtifactsAsync(HttpRequest request, TrackingStore store, RunArtifacts artifacts, CancellationToken cancellationToken)
    {
        var query = MlflowJson.FromQuery(request.Query);
        var run = await store.GetRunAsync(query.String("run_id") ?? query.Required("run_uuid"), cancellationToken);
        var folder = (query.String("path") ?? "").Trim('/');
        if (folder.Length > 0 && RunArtifacts.PathProblem(folder) is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }

        var files = await artifacts.ListAsync(run.Id, folder, cancellationToken);
        return Ok(new
        {
            root_uri = $"mlflow-artifacts:/{run.ExperimentId.ToString(System.Globalization.CultureInfo.InvariantCulture)}/{run.Id}/artifacts",
            files = Entries(files.Select(f => (f.Path, f.Size)), folder, relativeToFolder: false),
        });
    }

    /// <summary>
    /// The entries directly under <paramref name="folder"/>: files with sizes, sub-folders with is_dir. The
    /// artifact proxy names them relative to the folder listed (as MLflow's server does), the run-based list
    /// relative to the run.
    /// </summary>
    private static IEnumerable<object> Entries(IEnumerable<(string Path, long Size)> files, string folder, bool relativeToFolder)
    {
        var prefix = folder.Length == 0 ? "" : folder + "/";
        var named = files.Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal) && f.Path.Length > prefix.Length).ToList();
        return named
            .Select(f => (Split: f.Path[prefix.Length..].Split('/', 2), f.Size))
            .GroupBy(e => e.Split[0], StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (relativeToFolder ? g.Key : prefix + g.Key, Dir: g.Any(e => e.Split.Length == 2), g.First().Size))
            .Select(e => e.Dir ? (object)new { path = e.Item1, is_dir = true } : new { path = e.Item1, is_dir = false, file_size = e.Size });
    }

    private static async Task<IResult> UploadArtifactAsync(string experimentId, string runId, string path, HttpRequest request,
        TrackingStore store, RunArtifacts artifacts, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!TrackingStore.CanWrite(user.ToActor()))
        {
            throw new NotPermittedException("Only data scientists and administrators can upload run artifacts.");
        }

        var run = await store.GetRunAsync(runId, cancellationToken);
        if (run.ExperimentId != TrackingStore.ParseExperimentId(experimentId))
        {
            throw new TrackingException(TrackingError.ResourceDoesNotExist, $"Run {runId} is not in experiment {experimentId}.");
        }

        await artifacts.PutAsync(runId, RunArtifacts.Decode(path), request.Body, cancellationToken);
        return Ok(new { });
    }

    private static async Task<IResult> DownloadArtifactAsync(string experimentId, string runId, string path, RunArtifacts artifacts, TrackingStore store,
        Portal.Infrastructure.Datasets.DatasetCatalog catalog, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        path = RunArtifacts.Decode(path);
        if (RunArtifacts.PathProblem(path) is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }

        if (await store.FindRunAsync(runId, cancellationToken) is { } run
            && await catalog.RawReadRefusalAsync(user.ToActor(), $"run:{runId}", run.Inputs, cancellationToken) is { } refusal)
        {
            throw new NotPermittedException(refusal);
        }

        return await artifacts.OpenAsync(runId, path, cancellationToken) is { } found
            ? Results.Stream(found.Content, "application/octet-stream", System.IO.Path.GetFileName(found.Artifact.Path))
            : throw new TrackingException(TrackingError.ResourceDoesNotExist, $"Run {runId} has no artifact '{path}'.");
    }

    /// <summary>
    /// MLflow's artifact-proxy list of <c>path</c> = <c>{experiment}/{run}/artifacts[/folder]</c> or a registered
    /// version's <c>registry/{name}/{version}[/folder]</c>: what is directly inside, named relative to it.
    /// </summary>
    private static async Task<IResult> ListArtifactsAsync(string? path, RunArtifacts artifacts, ModelRegistry registry, CancellationToken cancellationToken)
    {
        var parts = (path ?? "").Trim('/').Split('/', 4);
        if (parts is ["registry", var model, var number, ..] && int.TryParse(number, System.Globalization.CultureInfo.InvariantCulture, out var version))
        {
            var inside = parts.Length == 4 ? parts[3].Trim('/') : "";
            var bound = await registry.FindVersionAsync(model, version, cancellationToken) is { } found ? await registry.BoundFilesAsync(found, cancellationToken) : [];
            return Ok(new { files = Entries(bound.Select(f => (f.Path, f.Size)), inside, relativeToFolder: true) });
        }

        if (parts.Length < 3 || parts[2] != "artifacts")
        {
            throw TrackingException.Invalid("Invalid value for parameter 'path': use {experiment_id}/{run_id}/artifacts[/folder].");
        }

        var folder = parts.Length == 4 ? parts[3].Trim('/') : "";
        if (folder.Length > 0 && RunArtifacts.PathProblem(folder) is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }

        var files = await artifacts.ListAsync(parts[1], folder, cancellationToken);
        return Ok(new { files = Entries(files.Select(f => (f.Path, f.Size)), folder, relativeToFolder: true) });
    }

    /// <summary>One file of a registered version as bound at registration, whatever the run's files are now.</summary>
    private static async Task<IResult> DownloadVersionFileAsync(string name, string version, string path, ModelRegistry registry, TrackingStore store,
        Portal.Infrastructure.Datasets.DatasetCatalog catalog, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        path = RunArtifacts.Decode(path);
        if (!int.TryParse(version, System.Globalization.CultureInfo.InvariantCulture, out var number) || await registry.FindVersionAsync(name, number, cancellationToken) is not { } found)
        {
            throw new TrackingException(TrackingError.ResourceDoesNotExist, $"Model Version (name={name}, version={version}) not found");
        }

        if (await store.FindRunAsync(found.SourceRunId, cancellationToken) is { } run
            && await catalog.RawReadRefusalAsync(user.ToActor(), $"model:{name}:{number}", run.Inputs, cancellationToken) is { } refusal)
        {
            throw new NotPermittedException(refusal);
        }

        return await registry.OpenBoundFileAsync(found, path, cancellationToken) is { } content
            ? Results.Stream(content, "application/octet-stream", System.IO.Path.GetFileName(path))
            : throw new TrackingException(TrackingError.ResourceDoesNotExist, $"{found.Label} has no file '{path}'.");
    }
}
