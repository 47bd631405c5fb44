using Portal.Domain.Common;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Experiments;

namespace Portal.Infrastructure.Jobs;

/// <summary>What goes into a job's run folder before it starts (inputs) and what comes out after (outputs, log).</summary>
internal static class RunFolder
{
    /// <summary>
    /// Copies a dataset version into <c>inputs/{name}.{ext}</c> of the run folder, a model version's file into
    /// <c>inputs/{name}{ext}</c> or its MLflow folder into <c>inputs/{name}/</c>; returns its path.
    /// </summary>
    public static async Task<string> MaterialiseAsync(IServiceProvider services, string folder, string name, string reference, CancellationToken cancellationToken)
    {
        var parts = reference.Split(':');
        var number = int.Parse(parts[2], CultureInfo.InvariantCulture);
        var inputs = Path.Combine(folder, "inputs");
        if (parts[0] == "model")
        {
            // The registered bytes, each checked against its hash: a job evaluates what reviewers will approve.
            var version = await services.GetRequiredService<Models.ModelRegistry>().FindVersionAsync(parts[1], number, cancellationToken)
                ?? throw new NotFoundException($"input {name}: model version {reference} no longer exists.");
            return version.Format == Portal.Domain.Models.ModelFormat.MlflowModel
                ? await Models.ModelFiles.WriteAsync(services, version, Path.Combine(inputs, name), fileName: null, cancellationToken)
                : await Models.ModelFiles.WriteAsync(services, version, inputs, $"{name}{Path.GetExtension(version.ArtifactPath)}", cancellationToken);
        }

        var (content, fileName) = await services.GetRequiredService<DatasetCatalog>().OpenContentAsync(parts[1], number, cancellationToken) is { } dataset
            ? (dataset.Content, dataset.Version.FileName)
            : throw new NotFoundException($"input {name}: dataset version {reference} no longer exists.");
        Directory.CreateDirectory(inputs);
        var path = Path.Combine(inputs, $"{name}{Path.GetExtension(fileName)}");
        await using (content)
        await using (var target = File.Create(path))
        {
            await content.CopyToAsync(target, cancellationToken);
        }

        return path;
    }

    /// <summary>
    /// The files the job wrote under <c>outputs/</c> (as <paramref name="written"/> lists them: regular files
    /// of its own, no links) and the log, into the artifact store with their run-relative paths.
    /// </summary>
    public static async Task StoreOutputsAsync(RunArtifacts artifacts, string workFolder, IReadOnlyList<string> written, string recordFolder, string runId,
        long dropped, int maxLogMegabytes, CancellationToken cancellationToken)
    {
        var outputs = Path.Combine(workFolder, "outputs") + Path.DirectorySeparatorChar;
        foreach (var file in written.Where(f => f.StartsWith(outputs, StringComparison.Ordinal)).Order(StringComparer.Ordinal).Take(10_000))
        {
            var relative = Path.GetRelativePath(workFolder, file).Replace('\\', '/');
            if (RunArtifacts.PathProblem(relative) is null)
            {
                await using var content = File.OpenRead(file);
                await artifacts.PutAsync(runId, relative, content, cancellationToken);
            }
        }

        var log = Path.Combine(recordFolder, LocalJobRunner.LogFile);
        if (File.Exists(log))
        {
            if (dropped > 0)
            {
                await File.AppendAllTextAsync(log, $"\n[portal] log truncated: {dropped:N0} bytes beyond the {maxLogMegabytes} MB limit were dropped.\n", cancellationToken);
            }

            await using var content = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            await artifacts.PutAsync(runId, LocalJobRunner.LogArtifactPath, content, cancellationToken);
        }
    }
}
