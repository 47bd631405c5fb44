using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Common;
using Portal.Domain.Models;
using Portal.Domain.Ports;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Models;

/// <summary>
/// MLflow model folders as registry artifacts. A version made from a folder binds the SHA-256 of its
/// manifest: one line per file, <c>sha256 size path</c>, sorted by path. Each file is stored by its own hash,
/// so the manifest's digest pins every byte of the folder, and approvals bind to it as to a single file.
/// </summary>
public static class MlflowFolders
{
    public const int MaxInputExampleChars = 65_536;
    public const int MaxFiles = 1_000;

    /// <summary>The run's files under <paramref name="folder"/> (paths relative to the run), in path order.</summary>
    public static async Task<IReadOnlyList<RunArtifact>> FilesAsync(PortalDbContext db, string runId, string folder, CancellationToken cancellationToken)
    {
        var prefix = folder.TrimEnd('/') + "/";
        return await db.RunArtifacts.AsNoTracking().Where(a => a.RunId == runId && a.Path.StartsWith(prefix))
            .OrderBy(a => a.Path).Take(MaxFiles + 1).ToListAsync(cancellationToken);
    }

    /// <summary>The manifest text of <paramref name="files"/>, paths relative to <paramref name="folder"/>.</summary>
    public static string Manifest(IEnumerable<RunArtifact> files, string folder)
    {
        var prefix = folder.TrimEnd('/') + "/";
        var lines = files.Select(f => $"{f.Hash} {f.Size} {f.Path[prefix.Length..]}").Order(StringComparer.Ordinal);
        return string.Concat(lines.Select(l => l + "\n"));
    }

    public static string Digest(string manifest) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(manifest)));

    /// <summary>The files a manifest lists: relative path, hash, size.</summary>
    public static IReadOnlyList<(string Path, string Hash, long Size)> Read(string manifest) =>
        [.. manifest.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ', 3))
            .Select(p => (p[2], p[0], long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture)))];

    public static async Task<string> ReadManifestAsync(IArtifactStore store, string hash, CancellationToken cancellationToken)
    {
        await using var content = await store.OpenReadAsync(hash, cancellationToken)
            ?? throw new NotFoundException($"The model folder manifest {hash[..12]}… is missing from the artifact store.");
        using var reader = new StreamReader(content, Encoding.UTF8);
        var manifest = await reader.ReadToEndAsync(cancellationToken);
        // The list pins every file's hash, so a list that was altered in the store would pin other bytes.
        return string.Equals(Digest(manifest), hash, StringComparison.OrdinalIgnoreCase)
            ? manifest
            : throw new ModelFilesException($"The model folder's file list does not hash to the bound {hash[..12]}…; the artifact store was altered.");
    }

    /// <summary>
    /// Reads the folder as an MLflow model: its MLmodel (required; refused when it names no loadable flavour),
    /// signature and input example; stores the manifest and returns its digest.
    /// </summary>
    public static async Task<(string Digest, MlflowModel Model, string? InputExample)> BindAsync(
        IArtifactStore store, IReadOnlyList<RunArtifact> files, string runId, string folder, CancellationToken cancellationToken)
    {
        if (files.Count > MaxFiles)
        {
            throw new InvalidInputException("artifactPath", $"artifactPath: folder '{folder}' of run {runId} holds more than {MaxFiles:N0} files; a model folder is smaller.");
        }

        var mlmodel = files.FirstOrDefault(f => f.Path == $"{folder}/{MlflowModel.FileName}")
            ?? throw new InvalidInputException("artifactPath",
                $"artifactPath: folder '{folder}' of run {runId} has no {MlflowModel.FileName} file, so it is not an MLflow model (log it with mlflow.<flavor>.log_model, or name a single model file).");
        var model = MlflowModel.Parse(await TextAsync(store, mlmodel.Hash, 1 << 20, cancellationToken) ?? "");
        string? example = null;
        if (model.InputExamplePath is { } examplePath && files.FirstOrDefault(f => f.Path == $"{folder}/{examplePath}") is { } exampleFile && exampleFile.Size <= MaxInputExampleChars)
        {
            example = await TextAsync(store, exampleFile.Hash, MaxInputExampleChars, cancellationToken);
        }

        var manifest = Manifest(files, folder);
        await using (var upload = await store.BeginUploadAsync(cancellationToken))
        {
            await upload.WriteAsync(Encoding.UTF8.GetBytes(manifest), cancellationToken);
            await upload.CommitAsync(cancellationToken);
        }

        return (Digest(manifest), model, example);
    }

    private static async Task<string?> TextAsync(IArtifactStore store, string hash, int maxChars, CancellationToken cancellationToken)
    {
        await using var content = await store.OpenReadAsync(hash, cancellationToken);
        if (content is null)
        {
            return null;
        }

        using var reader = new StreamReader(content, Encoding.UTF8);
        var buffer = new char[maxChars];
        var read = await reader.ReadBlockAsync(buffer, cancellationToken);
        return new string(buffer, 0, read);
    }
}
