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
        var (content, fileName) = parts[0] == "model"
            ? await services.GetRequiredService<Models.ModelRegistry>().OpenArtifactAsync(parts[1], number, cancellationToken) is { } model
                ? (model.Content, model.Version.ArtifactPath)
                : throw new KeyNotFoundException($"input {name}: model version {reference} no longer exists.")
            : await services.GetRequiredService<DatasetCatalog>().OpenContentAsync(parts[1], number, cancellationToken) is { } dataset
                ? (dataset.Content, dataset.Version.FileName)
                : throw new KeyNotFoundException($"input {name}: dataset version {reference} no longer exists.");
        Directory.CreateDirectory(Path.Combine(folder, "inputs"));
        var path = Path.Combine(folder, "inputs", $"{name}{Path.GetExtension(fileName)}");
        await using (content)
        await using (var target = File.Create(path))
        {
            await content.CopyToAsync(target, cancellationToken);
        }

        return path;
    }

    /// <summary>Files under <c>outputs/</c> and the log, into the artifact store with their run-relative paths.</summary>
    public static async Task StoreOutputsAsync(RunArtifacts artifacts, string folder, string runId, long dropped, int maxLogMegabytes, CancellationToken cancellationToken)
    {
        var outputs = Path.Combine(folder, "outputs");
        var files = Directory.Exists(outputs)
            ? Directory.EnumerateFiles(outputs, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }).ToList()
            : [];
        foreach (var file in files.Take(10_000))
        {
            var relative = Path.GetRelativePath(folder, file).Replace('\\', '/');
            if (RunArtifacts.PathProblem(relative) is null)
            {
                await using var content = File.OpenRead(file);
                await artifacts.PutAsync(runId, relative, content, cancellationToken);
            }
        }

        var log = Path.Combine(folder, LocalJobRunner.LogFile);
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

    /// <summary>Removes a folder of the run (the inputs copied in, once the job ended) if it can; one still in use stays.</summary>
    public static void TryDelete(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
