using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Domain;

public class DatasetTests
{
    private readonly FixedTime _time = new();

    [Fact]
    public void VersionsAreNumberedInOrder_AndEachIsAnnounced()
    {
        var dataset = Dataset.Create("credit", null, Some.Scientist, _time);

        dataset.AddVersion(Some.Content("aaa"), null, Some.Scientist, _time);
        var second = dataset.AddVersion(Some.Content("bbb"), "  second cut ", Some.Admin, _time);

        Assert.Equal([1, 2], dataset.Versions.Select(v => v.Number));
        Assert.Same(second, dataset.Latest);
        Assert.Equal("second cut", second.Description);
        Assert.Equal("ada@demo.local", second.CreatedBy);
        Assert.Equal([1, 2], dataset.DomainEvents.OfType<DatasetVersionRegistered>().Select(e => e.Version));
    }

    [Fact]
    public void TheSameBytes_CannotBecomeASecondVersion()
    {
        var dataset = Dataset.Create("credit", null, Some.Scientist, _time);
        dataset.AddVersion(Some.Content("aaa"), null, Some.Scientist, _time);

        var e = Assert.Throws<DomainException>(() => dataset.AddVersion(Some.Content("aaa"), null, Some.Scientist, _time));

        Assert.Equal("These bytes are already version 1 of 'credit'.", e.Message);
        Assert.Single(dataset.Versions);
    }

    [Fact]
    public void AVersionThatBreaksItsContract_IsKept_AndMarkedFailed()
    {
        var dataset = Dataset.Create("credit", null, Some.Scientist, _time);
        var broken = new ValidationFailure("age", ValidationRules.Range, "below 0", 3, Severity.Error, ["-1"]);
        var odd = new ValidationFailure("age", ValidationRules.Drift, "moved", 1, Severity.Warning, []);

        var failed = dataset.AddVersion(Some.Content("aaa", broken), null, Some.Scientist, _time);
        var passed = dataset.AddVersion(Some.Content("bbb", odd), null, Some.Scientist, _time);

        Assert.Equal(ValidationStatus.Failed, failed.Status);
        Assert.Equal(ValidationStatus.Passed, passed.Status);
        Assert.Equal(ValidationStatus.Failed, dataset.DomainEvents.OfType<DatasetVersionRegistered>().First().Status);
    }

    [Fact]
    public void OnlyPeopleWhoBuildModels_ChangeData()
    {
        var dataset = Dataset.Create("credit", null, Some.Scientist, _time);

        foreach (var reader in new[] { Some.Reviewer, Some.Ops })
        {
            Assert.Throws<NotPermittedException>(() => Dataset.Create("other", null, reader, _time));
            Assert.Throws<NotPermittedException>(() => dataset.AddVersion(Some.Content("aaa"), null, reader, _time));
            Assert.Throws<NotPermittedException>(() => dataset.Describe("mine now", reader));
            Assert.Throws<NotPermittedException>(() => dataset.ReviseContract([new ContractColumn("age", ColumnType.Integer, false)], reader, _time));
        }

        Assert.Empty(dataset.Versions);
        Assert.Null(dataset.Description);
    }

    [Fact]
    public void AContractRevision_IsANewVersion_ThatListsWhatItBreaks()
    {
        var dataset = Dataset.Create("credit", null, Some.Scientist, _time);
        var first = dataset.ReviseContract([new ContractColumn("age", ColumnType.Integer, true), new ContractColumn("income", ColumnType.Float, false)], Some.Scientist, _time);

        var second = dataset.ReviseContract([new ContractColumn("age", ColumnType.Integer, false, Min: 18)], Some.Scientist, _time);

        Assert.Equal(1, first.Version);
        Assert.Empty(first.BreakingChanges);
        Assert.Equal(2, second.Version);
        Assert.Contains("Column 'income' was removed.", second.BreakingChanges);
        Assert.Contains("Column 'age' no longer allows missing values.", second.BreakingChanges);
        Assert.Contains("Column 'age' now requires values of at least 18.", second.BreakingChanges);
        Assert.Same(second, dataset.Contract);
        Assert.Equal(2, dataset.Contracts.Count);
        Assert.Equal(3, dataset.DomainEvents.OfType<DataContractRevised>().Last().BreakingChanges);
    }

    [Fact]
    public void VersionTags_AreTrimmedAndDistinct_AndTooManyAreRefused()
    {
        var dataset = Dataset.Create("credit", null, Some.Scientist, _time);
        var version = dataset.AddVersion(Some.Content("aaa"), null, Some.Scientist, _time);

        version.Tag([" gold ", "gold", "", "2026"], Some.Scientist);
        Assert.Equal(["gold", "2026"], version.Tags);

        Assert.Throws<DomainException>(() => version.Tag(Enumerable.Range(0, DatasetVersion.MaxTags + 1).Select(i => $"t{i}"), Some.Scientist));
        Assert.Equal(["gold", "2026"], version.Tags);
    }
}
