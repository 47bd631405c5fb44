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
    /// Copies a dataset version into <c>inputs/{name}.{ext}</c> of the run folder, or a model version's artifact
    /// into <c>inputs/{name}{ext}</c>; returns its path.
    /// </summary>
    public static async Task<string> MaterialiseAsync(IServiceProvider services, string folder, string name, string reference, CancellationToken cancellationToken)
    {
        var parts = reference.Split(':');
        var number = int.Parse(parts[2], CultureInfo.InvariantCulture);
        if (parts[0] == "model" && await MaterialiseFolderAsync(services, folder, name, parts[1], number, cancellationToken) is { } modelFolder)
        {
            return modelFolder;
        }

        var (content, fileName) = parts[0] == "model"
            ? await services.GetRequiredService<Models.ModelRegistry>().OpenArtifactAsync(parts[1], number, cancellationToken) is { } model
                ? (model.Content, model.Version.ArtifactPath)
                : throw new NotFoundException($"input {name}: model version {reference} no longer exists.")
            : await services.GetRequiredService<DatasetCatalog>().OpenContentAsync(parts[1], number, cancellationToken) is { } dataset
                ? (dataset.Content, dataset.Version.FileName)
                : throw new NotFoundException($"input {name}: dataset version {reference} no longer exists.");
        Directory.CreateDirectory(Path.Combine(folder, "inputs"));
        var path = Path.Combine(folder, "inputs", $"{name}{Path.GetExtension(fileName)}");
        await using (content)
        await using (var target = File.Create(path))
        {
            await content.CopyToAsync(target, cancellationToken);
        }

        return path;
    }

    /// <summary>An MLflow model version becomes the folder <c>inputs/{name}/</c> with its bound files; null for a single-file model.</summary>
    private static async Task<string?> MaterialiseFolderAsync(IServiceProvider services, string folder, string name, string model, int number, CancellationToken cancellationToken)
    {
        var registry = services.GetRequiredService<Models.ModelRegistry>();
        if (await registry.FindVersionAsync(model, number, cancellationToken) is not { Format: Portal.Domain.Models.ModelFormat.MlflowModel } version)
        {
            return null;
        }

        var store = services.GetRequiredService<Portal.Domain.Ports.IArtifactStore>();
        var target = Path.Combine(folder, "inputs", name);
        foreach (var file in await registry.BoundFilesAsync(version, cancellationToken))
        {
            if (RunArtifacts.PathProblem(file.Path) is not null)
            {
                continue;
            }

            var path = Path.Combine(target, file.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await using var content = await store.OpenReadAsync(file.Hash, cancellationToken)
                ?? throw new NotFoundException($"input {name}: file {file.Path} of model version {model}:{number} is missing from the artifact store.");
            await using var output = File.Create(path);
            await content.CopyToAsync(output, cancellationToken);
        }

        return target;
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
