using System.Buffers;
using System.Security.Cryptography;
using System.Threading.Channels;
using Portal.Domain.Ports;
using Portal.Infrastructure.Configuration;

namespace Portal.Infrastructure.Storage;

/// <summary>
/// Artifacts as files under <c>artifacts/sha256/ab/abcdef…</c> in the data folder. An upload goes to a
/// temporary file and is renamed into place on commit (atomic on one file system), so a reader never
/// sees half a file and an abandoned upload leaves nothing behind.
/// </summary>
public sealed class LocalArtifactStore(DataDirectory data) : IArtifactStore
{
    private string Root => Path.Combine(data.ArtifactsFolder, "sha256");

    private string Incoming => Path.Combine(data.ArtifactsFolder, ".incoming");

    public Task<IArtifactUpload> BeginUploadAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Incoming);
        var temp = Path.Combine(Incoming, $"{Guid.NewGuid():N}.part");
        return Task.FromResult<IArtifactUpload>(new Upload(this, temp));
    }

    public Task<Stream?> OpenReadAsync(string hash, CancellationToken cancellationToken)
    {
        var path = PathOf(hash);
        return Task.FromResult<Stream?>(path is not null && File.Exists(path)
            ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan)
            : null);
    }

    public Task<bool> ExistsAsync(string hash, CancellationToken cancellationToken) =>
        Task.FromResult(PathOf(hash) is { } path && File.Exists(path));

    public Task DeleteAsync(string hash, CancellationToken cancellationToken)
    {
        if (PathOf(hash) is { } path)
        {
            File.Delete(path);
        }

        return Task.CompletedTask;
    }

    public string UriOf(string hash) => new Uri(PathOf(hash) ?? throw new ArgumentException($"'{hash}' is not a SHA-256 hash.", nameof(hash))).AbsoluteUri;

    /// <summary>The file of a hash; null for anything that is not 64 lower-case hex digits (so no path can be smuggled in).</summary>
    private string? PathOf(string hash) =>
        hash.Length == 64 && hash.All(c => char.IsAsciiHexDigitLower(c) || char.IsAsciiDigit(c))
            ? Path.Combine(Root, hash[..2], hash)
            : null;

    /// <summary>
    /// Writes happen on a background task: the caller hands over a copy of each chunk and carries on
    /// (parsing, on another core) while this one hashes and writes.
    /// </summary>
    private sealed class Upload : IArtifactUpload
    {
        private readonly LocalArtifactStore _store;
        private readonly string _temp;
        private readonly Channel<(byte[] Buffer, int Length)> _chunks = Channel.CreateBounded<(byte[], int)>(new BoundedChannelOptions(8) { SingleReader = true, SingleWriter = true });
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly FileStream _file;
        private readonly Task _writer;
        private bool _committed;

        public Upload(LocalArtifactStore store, string temp)
        {
            _store = store;
            _temp = temp;
            _file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
            _writer = Task.Run(WriteLoopAsync);
        }

        public long Length { get; private set; }

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
        {
            if (bytes.IsEmpty)
            {
                return;
            }

            var copy = ArrayPool<byte>.Shared.Rent(bytes.Length);
            bytes.CopyTo(copy);
            Length += bytes.Length;
            if (!await _chunks.Writer.WaitToWriteAsync(cancellationToken) || !_chunks.Writer.TryWrite((copy, bytes.Length)))
            {
                ArrayPool<byte>.Shared.Return(copy);
                await _writer; // surfaces the writer's failure
                throw new InvalidOperationException("The artifact upload is no longer accepting data.");
            }
        }

        public async Task<StoredArtifact> CommitAsync(CancellationToken cancellationToken)
        {
            _chunks.Writer.TryComplete();
            await _writer.WaitAsync(cancellationToken);
            await _file.FlushAsync(cancellationToken);
            await _file.DisposeAsync();
            var hash = Convert.ToHexStringLower(_hash.GetHashAndReset());
            var target = _store.PathOf(hash)!;
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            _committed = true;
            if (File.Exists(target))
            {
                File.Delete(_temp);
                return new StoredArtifact(hash, Length, AlreadyExisted: true);
            }

            try
            {
                File.Move(_temp, target);
                return new StoredArtifact(hash, Length, AlreadyExisted: false);
            }
            catch (IOException) when (File.Exists(target))
            {
                // Someone committed the same bytes a moment earlier: theirs stands.
                File.Delete(_temp);
                return new StoredArtifact(hash, Length, AlreadyExisted: true);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _chunks.Writer.TryComplete();
            try
            {
                await _writer;
            }
            catch (IOException)
            {
                // The temporary file is removed below either way.
            }

            await _file.DisposeAsync();
            _hash.Dispose();
            if (!_committed && File.Exists(_temp))
            {
                File.Delete(_temp);
            }
        }

        private async Task WriteLoopAsync()
        {
            try
            {
                await foreach (var (buffer, length) in _chunks.Reader.ReadAllAsync())
                {
                    try
                    {
                        _hash.AppendData(buffer, 0, length);
                        await _file.WriteAsync(buffer.AsMemory(0, length));
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
            catch (Exception ex)
            {
                // A full disk or similar: the next write by the caller fails with this instead of waiting forever.
                _chunks.Writer.TryComplete(ex);
                while (_chunks.Reader.TryRead(out var pending))
                {
                    ArrayPool<byte>.Shared.Return(pending.Buffer);
                }

                throw;
            }
        }
    }
}
