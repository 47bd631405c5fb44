using Portal.Domain.Datasets;

namespace Portal.Infrastructure.Datasets;

// What the catalog answers: a registration, and pages of the datasets list.
public sealed record VersionRegistration(Dataset Dataset, DatasetVersion Version, bool Created);

public enum DatasetSort
{
    Name,
    Updated,
    Versions,
}

public sealed record DatasetQuery(string? Search = null, DatasetSort SortBy = DatasetSort.Name, bool Descending = false, int Skip = 0, int Take = 20);

public sealed record DatasetSummary(
    string Name, string? Description, int Versions, int? LatestVersion, ValidationStatus? LatestStatus, long? LatestRows,
    DateTime UpdatedAt, string CreatedBy);

public sealed record DatasetPage(IReadOnlyList<DatasetSummary> Datasets, int Total);
