using Microsoft.EntityFrameworkCore;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Ports;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Experiments;

/// <summary>
/// Files of runs: stored by content hash in the artifact store, named by a path relative to the run
/// (<c>outputs/model.pkl</c>). Paths are checked so no name can reach outside the run.
/// </summary>
public sealed class RunArtifacts(IDbContextFactory<PortalDbContext> dbFactory, IArtifactStore store, TimeProvider time)
{
    /// <summary>
    /// A path as it arrives in a URL, decoded once (routing leaves <c>%2F</c> encoded). A name that still
    /// decodes further (<c>%252e</c>) is refused rather than guessed at.
    /// </summary>
    public static string Decode(string path)
    {
        var decoded = Uri.UnescapeDataString(path);
        if (decoded != Uri.UnescapeDataString(decoded))
        {
            throw TrackingException.Invalid($"'{path}' is percent-encoded more than once; send the artifact path encoded once.");
        }

        return decoded;
    }

    /// <summary>Null when <paramref name="path"/> is a clean relative path; otherwise what is wrong with it.</summary>
    public static string? PathProblem(string? path)
    {
        if (string.IsNullOrEmpty(path) || path.Length > RunArtifact.MaxPathLength)
        {
            return $"An artifact path is 1 to {RunArtifact.MaxPathLength} characters.";
        }

        if (path.StartsWith('/') || path.Contains('\\', StringComparison.Ordinal) || path.Contains(':', StringComparison.Ordinal)
            || path.Any(char.IsControl) || path.Split('/').Any(part => part is "" or "." or ".."))
        {
            return $"'{path}' is not a relative artifact path: no leading '/', no '.', '..' or empty segments, no '\\' or ':'.";
        }

        return null;
    }

    public async Task<IReadOnlyList<RunArtifact>> ListAsync(string runId, string? prefix, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.RunArtifacts.AsNoTracking().Where(a => a.RunId == runId);
        if (!string.IsNullOrEmpty(prefix))
        {
            var folder = prefix.TrimEnd('/') + "/";
            query = query.Where(a => a.Path.StartsWith(folder));
        }

        return await query.OrderBy(a => a.Path).Take(10_000).ToListAsync(cancellationToken);
    }

    public async Task<(RunArtifact Artifact, Stream Content)?> OpenAsync(string runId, string path, CancellationToken cancellationToken)
    {
        if (PathProblem(path) is not null)
        {
            return null;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var artifact = await db.RunArtifacts.AsNoTracking().FirstOrDefaultAsync(a => a.RunId == runId && a.Path == path, cancellationToken);
        return artifact is not null && await store.OpenReadAsync(artifact.Hash, cancellationToken) is { } content ? (artifact, content) : null;
    }

    /// <summary>Stores <paramref name="content"/> as the run's artifact at <paramref name="path"/> (replacing an earlier one).</summary>
    public async Task<RunArtifact> PutAsync(string runId, string path, Stream content, CancellationToken cancellationToken)
    {
        if (PathProblem(path) is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Runs.AnyAsync(r => r.Id == runId, cancellationToken))
        {
            throw new TrackingException(TrackingError.ResourceDoesNotExist, $"Run with id={runId} not found");
        }

        StoredArtifact stored;
        await using (var upload = await store.BeginUploadAsync(cancellationToken))
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await upload.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }

            stored = await upload.CommitAsync(cancellationToken);
        }

        var artifact = await db.RunArtifacts.FirstOrDefaultAsync(a => a.RunId == runId && a.Path == path, cancellationToken);
        if (artifact is null)
        {
            artifact = new RunArtifact { RunId = runId, Path = path };
            db.RunArtifacts.Add(artifact);
        }

        artifact.Hash = stored.Hash;
        artifact.Size = stored.Size;
        artifact.CreatedAt = time.UtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return artifact;
    }
}
