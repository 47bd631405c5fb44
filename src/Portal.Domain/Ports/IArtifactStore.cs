namespace Portal.Domain.Ports;

/// <summary>
/// Content-addressed storage: an artifact is named by the SHA-256 of its bytes, so the same bytes are
/// stored once. Writes are streamed and become visible only when committed.
/// </summary>
public interface IArtifactStore
{
    /// <summary>Starts writing a new artifact; nothing is visible until <see cref="IArtifactUpload.CommitAsync"/>.</summary>
    Task<IArtifactUpload> BeginUploadAsync(CancellationToken cancellationToken);

    /// <summary>The bytes of an artifact, or null when there is none with that hash.</summary>
    Task<Stream?> OpenReadAsync(string hash, CancellationToken cancellationToken);

    Task<bool> ExistsAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Removes an artifact (used to undo a commit whose metadata could not be saved).</summary>
    Task DeleteAsync(string hash, CancellationToken cancellationToken);

    /// <summary>Where the artifact lives, for people and for backends that read it directly.</summary>
    string UriOf(string hash);
}

/// <summary>An artifact being written. Disposing without committing discards it.</summary>
public interface IArtifactUpload : IAsyncDisposable
{
    long Length { get; }

    ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken);

    /// <summary>Makes the bytes visible under their hash. If they were already stored, the new copy is dropped.</summary>
    Task<StoredArtifact> CommitAsync(CancellationToken cancellationToken);
}

/// <param name="AlreadyExisted">The same bytes were stored before this upload.</param>
public sealed record StoredArtifact(string Hash, long Size, bool AlreadyExisted);
