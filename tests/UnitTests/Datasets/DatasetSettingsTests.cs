using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Datasets;

public sealed class DatasetSettingsTests : IDisposable
{
    private readonly TempFolder _data = new();

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    public void AnUploadLimitBelowOneMegabyte_StopsThePortalAtStart_NamingTheSetting(string limit)
    {
        var ex = Assert.ThrowsAny<Exception>(() => new InfrastructureBuilder(_data.Path).With("Portal:Datasets:MaxUploadMegabytes", limit).Build());

        Assert.Contains("Portal:Datasets:MaxUploadMegabytes", ex.Message);
    }

    public void Dispose() => _data.Dispose();
}
