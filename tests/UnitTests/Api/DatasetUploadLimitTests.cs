using System.Net;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>A portal whose upload limit is 1 MB, to see what happens above it.</summary>
public sealed class SmallUploadPortal : PortalFactory
{
    public SmallUploadPortal() => With("Portal:Datasets:MaxUploadMegabytes", "1");
}

public class DatasetUploadLimitTests(SmallUploadPortal portal) : IClassFixture<SmallUploadPortal>
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnUploadOverTheLimit_Is413_WithNothingStored(bool announceLength)
    {
        var client = portal.ClientFor("scientist@demo.local");
        await portal.WaitForDemoDataAsync();
        var blobsBefore = portal.ArtifactFiles();
        var big = DatasetsApiTests.Loans(100_000, seed: 11);
        Assert.True(big.Length > 2 << 20);
        using var form = new MultipartFormDataContent();
        HttpContent file = announceLength ? new ByteArrayContent(big) : new StreamContent(new UnannouncedStream(big));
        form.Add(file, "file", "big.csv");
        if (!announceLength)
        {
            // Chunked: the portal cannot refuse on Content-Length and must stop while streaming.
            form.Headers.ContentLength = null;
        }

        var response = await client.PostAsync("/api/v1/datasets/too-big/versions", form);

        var detail = await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("1 MB limit", detail);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/datasets/too-big")).StatusCode);
        Assert.Equal(blobsBefore, portal.ArtifactFiles());
    }

    /// <summary>A stream that does not tell its length, so HttpClient sends it chunked.</summary>
    private sealed class UnannouncedStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
