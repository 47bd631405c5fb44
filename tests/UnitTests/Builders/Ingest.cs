using System.Text;
using Portal.Domain.Datasets;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Datasets.Ingestion;
using Portal.Infrastructure.Storage;

namespace Portal.UnitTests.Builders;

/// <summary>Runs the real ingestor over text or bytes, storing into a real artifact store in a temp folder.</summary>
public sealed class Ingest : IDisposable
{
    private readonly TempFolder _folder = new("portal-ingest");

    public LocalArtifactStore Store => new(new DataDirectory(_folder.Path));

    public Task<IngestedFile> TextAsync(string content, string fileName = "data.csv", DataContract? contract = null, DriftReference? reference = null, long maxBytes = long.MaxValue) =>
        BytesAsync(Encoding.UTF8.GetBytes(content), fileName, contract, reference, maxBytes);

    public async Task<IngestedFile> BytesAsync(byte[] content, string fileName = "data.csv", DataContract? contract = null, DriftReference? reference = null, long maxBytes = long.MaxValue)
    {
        await using var upload = await Store.BeginUploadAsync(CancellationToken.None);
        // A small read size makes records cross buffer reads, as they do with real uploads.
        await using var stream = new TrickleStream(content, 7919);
        var file = await new DatasetIngestor().IngestAsync(stream, fileName, upload, contract, reference, maxBytes, CancellationToken.None);
        await upload.CommitAsync(CancellationToken.None);
        return file;
    }

    /// <summary>Files left in the store's temporary folder (abandoned uploads would show up here).</summary>
    public int IncomingFiles()
    {
        var incoming = Path.Combine(_folder.Path, "artifacts", ".incoming");
        return Directory.Exists(incoming) ? Directory.GetFiles(incoming).Length : 0;
    }

    public void Dispose() => _folder.Dispose();

    /// <summary>Hands out at most <c>chunk</c> bytes per read.</summary>
    private sealed class TrickleStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            base.ReadAsync(buffer, offset, Math.Min(count, chunk), cancellationToken);

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, chunk)], cancellationToken);
    }
}
