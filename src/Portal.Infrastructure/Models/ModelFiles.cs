using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Common;
using Portal.Domain.Models;
using Portal.Domain.Ports;
using Portal.Infrastructure.Experiments;

namespace Portal.Infrastructure.Models;

/// <summary>A version's bytes cannot be used: missing from the store, or not the bytes that were approved.</summary>
public sealed class ModelFilesException(string message) : IOException(message);

/// <summary>
/// Writes a model version's files out of the artifact store as they were bound at registration, checking
/// every byte against its hash on the way: a model server or a job never loads bytes other than the
/// registered (and approved) ones, and the portal itself never deserialises a model.
/// </summary>
internal static class ModelFiles
{
    /// <summary>
    /// A model file goes to <paramref name="folder"/>/<paramref name="fileName"/> (its own name when none is given), an
    /// MLflow folder's files under <paramref name="folder"/>; returns the path to load (the file or the folder).
    /// </summary>
    public static async Task<string> WriteAsync(IServiceProvider services, ModelVersion version, string folder, string? fileName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        var registry = services.GetRequiredService<ModelRegistry>();
        var store = services.GetRequiredService<IArtifactStore>();
        IReadOnlyList<(string Path, string Hash, long Size)> files;
        try
        {
            files = await registry.BoundFilesAsync(version, cancellationToken);
        }
        catch (NotFoundException e)
        {
            throw new ModelFilesException(e.Message);
        }

        Directory.CreateDirectory(folder);
        if (version.Format != ModelFormat.MlflowModel)
        {
            var path = Path.Combine(folder, fileName ?? SafeName(files[0].Path));
            await CopyCheckedAsync(store, version.ArtifactHash, path, files[0].Path, cancellationToken);
            return path;
        }

        foreach (var (relative, hash, _) in files)
        {
            if (RunArtifacts.PathProblem(relative) is { } problem)
            {
                throw new ModelFilesException($"{version.Label} lists a file that cannot be written safely ({relative}): {problem}");
            }

            var path = Path.Combine(folder, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await CopyCheckedAsync(store, hash, path, relative, cancellationToken);
        }

        return folder;
    }

    private static async Task CopyCheckedAsync(IArtifactStore store, string hash, string path, string shownAs, CancellationToken cancellationToken)
    {
        await using var content = await store.OpenReadAsync(hash, cancellationToken)
            ?? throw new ModelFilesException($"The model file {shownAs} ({hash[..12]}…) is missing from the artifact store.");
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using (var output = File.Create(path))
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                sha.AppendData(buffer, 0, read);
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
        }

        var actual = Convert.ToHexStringLower(sha.GetHashAndReset());
        if (!string.Equals(actual, hash, StringComparison.OrdinalIgnoreCase))
        {
            File.Delete(path);
            throw new ModelFilesException($"The stored bytes of {shownAs} hash to {actual[..12]}…, not to the approved {hash[..12]}…; the artifact store was altered.");
        }
    }

    private static string SafeName(string name) => string.IsNullOrWhiteSpace(name) || name.StartsWith('.') ? "model.pkl" : name;
}
