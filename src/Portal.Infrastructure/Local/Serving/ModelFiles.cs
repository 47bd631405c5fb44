using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Deployments;
using Portal.Domain.Models;
using Portal.Domain.Ports;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Models;

namespace Portal.Infrastructure.Local.Serving;

/// <summary>The model's bytes cannot be served: missing from the store, or not the bytes that were approved.</summary>
public sealed class ModelFilesException(string message) : Exception(message);

/// <summary>
/// Copies a deployment's model into an instance's working folder from the artifact store, by the digest the
/// approval bound, checking every byte on the way: the portal never deserialises a model, and an instance
/// never serves bytes other than the approved ones.
/// </summary>
internal static class ModelFiles
{
    /// <summary>Writes the model under <c>model/</c> of <paramref name="folder"/>; returns the path the server loads (file or MLflow folder).</summary>
    public static async Task<string> MaterialiseAsync(IServiceProvider services, Deployment deployment, string folder, CancellationToken cancellationToken)
    {
        var registry = services.GetRequiredService<ModelRegistry>();
        var store = services.GetRequiredService<IArtifactStore>();
        var version = await registry.FindVersionAsync(deployment.ModelName, deployment.ModelVersion, cancellationToken)
            ?? throw new ModelFilesException($"{deployment.ModelName} version {deployment.ModelVersion} no longer exists in the registry.");
        if (!string.Equals(version.ArtifactHash, deployment.ArtifactHash, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelFilesException($"{version.Label} is bound to {version.ArtifactHash[..12]}…, not to the {deployment.ArtifactHash[..12]}… that was deployed.");
        }

        var target = Path.Combine(folder, "model");
        Directory.CreateDirectory(target);
        if (version.Format != ModelFormat.MlflowModel)
        {
            var path = Path.Combine(target, SafeName(Path.GetFileName(version.ArtifactPath)));
            await CopyCheckedAsync(store, version.ArtifactHash, path, version.ArtifactPath, cancellationToken);
            return path;
        }

        await using var manifestContent = await store.OpenReadAsync(version.ArtifactHash, cancellationToken)
            ?? throw new ModelFilesException($"The file list of {version.Label} ({version.ArtifactHash[..12]}…) is missing from the artifact store.");
        string manifest;
        using (var reader = new StreamReader(manifestContent, Encoding.UTF8))
        {
            manifest = await reader.ReadToEndAsync(cancellationToken);
        }

        if (!string.Equals(MlflowFolders.Digest(manifest), version.ArtifactHash, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelFilesException($"The file list of {version.Label} does not match the digest approved ({version.ArtifactHash[..12]}…); it was altered.");
        }

        foreach (var (relative, hash, _) in MlflowFolders.Read(manifest))
        {
            if (RunArtifacts.PathProblem(relative) is { } problem)
            {
                throw new ModelFilesException($"{version.Label} lists a file that cannot be written safely ({relative}): {problem}");
            }

            var path = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await CopyCheckedAsync(store, hash, path, relative, cancellationToken);
        }

        return target;
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
