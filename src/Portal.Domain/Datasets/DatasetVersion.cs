using Portal.Domain.Common;
using Portal.Domain.Identity;

namespace Portal.Domain.Datasets;

public enum DatasetFormat
{
    Csv,
    JsonLines,
}

/// <summary>What a registration pass found in a file, ready to become a version.</summary>
public sealed record DatasetVersionContent(
    string ContentHash,
    long SizeBytes,
    DatasetFormat Format,
    string FileName,
    long Rows,
    IReadOnlyList<ColumnSchema> Schema,
    DatasetProfile Profile,
    ValidationReport Validation,
    IReadOnlyList<PiiFinding> Pii,
    IReadOnlyList<IReadOnlyList<string?>> Preview);

/// <summary>
/// One immutable version of a dataset: the bytes (by SHA-256), their schema, profile and validation.
/// Only the description and tags change after registration.
/// </summary>
public sealed class DatasetVersion : Entity
{
    public const int MaxTags = 20;
    public const int MaxTagLength = 50;
    public const int MaxDescriptionLength = 4000;

    private DatasetVersion()
    {
    }

    public Guid Id { get; private set; }

    public Guid DatasetId { get; private set; }

    /// <summary>1, 2, 3… within the dataset.</summary>
    public int Number { get; private set; }

    public string ContentHash { get; private set; } = "";

    public long SizeBytes { get; private set; }

    public DatasetFormat Format { get; private set; }

    /// <summary>The uploaded file's name, for people; never used as a path.</summary>
    public string FileName { get; private set; } = "";

    public long Rows { get; private set; }

    public IReadOnlyList<ColumnSchema> Schema { get; private set; } = [];

    public DatasetProfile Profile { get; private set; } = new(0, [], []);

    public ValidationReport Validation { get; private set; } = ValidationReport.Empty;

    public ValidationStatus Status { get; private set; }

    public IReadOnlyList<PiiFinding> Pii { get; private set; } = [];

    /// <summary>The first rows as text; values of columns found to hold personal data are masked when stored.</summary>
    public IReadOnlyList<IReadOnlyList<string?>> Preview { get; private set; } = [];

    public string? Description { get; private set; }

    public IReadOnlyList<string> Tags { get; private set; } = [];

    public DateTime CreatedAt { get; private set; }

    public string CreatedBy { get; private set; } = "";

    public int ColumnCount { get; private set; }

    internal static DatasetVersion Create(Guid datasetId, int number, DatasetVersionContent content, string? description, Actor actor, TimeProvider time) => new()
    {
        Id = Guid.NewGuid(),
        DatasetId = datasetId,
        Number = number,
        ContentHash = content.ContentHash,
        SizeBytes = content.SizeBytes,
        Format = content.Format,
        FileName = content.FileName,
        Rows = content.Rows,
        ColumnCount = content.Schema.Count,
        Schema = content.Schema,
        Profile = content.Profile,
        Validation = content.Validation,
        Status = content.Validation.Status,
        Pii = content.Pii,
        Preview = content.Preview,
        Description = NormaliseDescription(description),
        CreatedAt = time.UtcNow(),
        CreatedBy = actor.Name,
    };

    /// <summary>Changes the description; the data itself never changes.</summary>
    public void Describe(string? description, Actor actor)
    {
        Dataset.RequireEditor(actor, "describe dataset versions");
        Description = NormaliseDescription(description);
    }

    /// <summary>Replaces the tags (trimmed, distinct, in the given order).</summary>
    public void Tag(IEnumerable<string> tags, Actor actor)
    {
        Dataset.RequireEditor(actor, "tag dataset versions");
        var cleaned = tags.Select(t => t.Trim()).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (cleaned.Count > MaxTags || cleaned.Any(t => t.Length > MaxTagLength))
        {
            throw new DomainException($"A version has at most {MaxTags} tags of at most {MaxTagLength} characters each.");
        }

        if (cleaned.Select(t => Names.FreeTextProblem(t, "tags", MaxTagLength)).FirstOrDefault(p => p is not null) is { } problem)
        {
            throw new DomainException(problem);
        }

        Tags = cleaned;
    }

    private static string? NormaliseDescription(string? description)
    {
        var text = description?.Trim();
        if (text is { Length: > MaxDescriptionLength })
        {
            throw new DomainException($"A description is at most {MaxDescriptionLength} characters.");
        }

        return string.IsNullOrEmpty(text) ? null : text;
    }
}
