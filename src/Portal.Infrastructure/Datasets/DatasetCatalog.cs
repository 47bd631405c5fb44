using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.Domain.Ports;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Datasets.Ingestion;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Datasets;

/// <summary>Registers dataset versions and contracts, and answers questions about them.</summary>
public sealed class DatasetCatalog(
    IDbContextFactory<PortalDbContext> dbFactory,
    IArtifactStore store,
    DatasetIngestor ingestor,
    IOptions<PortalOptions> options,
    Audit.AuditTrail audit,
    TimeProvider time)
{
    public const int MaxPageSize = 200;
    public const int MaxFileNameLength = 255;

    // One registration per dataset at a time, so version numbers and the drift reference are never raced.
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    public long MaxUploadBytes => options.Value.Datasets.MaxUploadBytes;

    /// <summary>
    /// Reads <paramref name="content"/> once, stores it by hash, and registers it as the next version of
    /// <paramref name="name"/> (creating the dataset, and its first contract from this file, when new).
    /// The same bytes again return the existing version. A file that cannot be read leaves nothing behind.
    /// </summary>
    /// <exception cref="DatasetFileException">The file cannot be read as a dataset; nothing was stored.</exception>
    public async Task<VersionRegistration> RegisterVersionAsync(
        string name, Stream content, string? fileName, string? description, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!Dataset.CanEdit(actor))
        {
            throw new NotPermittedException("Only data scientists and administrators can register dataset versions.");
        }

        if (DatasetNames.Problem(name) is { } nameProblem)
        {
            throw new DatasetInputException("name", nameProblem);
        }

        var safeFileName = CheckFileName(fileName);
        if (description is { Length: > DatasetVersion.MaxDescriptionLength })
        {
            throw new DatasetInputException("description", $"A description is at most {DatasetVersion.MaxDescriptionLength} characters.");
        }

        var gate = Gates.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var dataset = await db.Datasets.Include(d => d.Versions).SingleOrDefaultAsync(d => d.Name == name, cancellationToken);
            var reference = dataset?.Latest is { } latest ? new DriftReference(latest.Number, latest.Profile) : null;

            IngestedFile file;
            StoredArtifact stored;
            await using (var upload = await store.BeginUploadAsync(cancellationToken))
            {
                file = await ingestor.IngestAsync(content, safeFileName, upload, dataset?.Contract, reference, MaxUploadBytes, cancellationToken);
                stored = await upload.CommitAsync(cancellationToken);
            }

            if (dataset?.VersionWithContent(stored.Hash) is { } existing)
            {
                return new VersionRegistration(dataset, existing, Created: false);
            }

            try
            {
                if (dataset is null)
                {
                    dataset = Dataset.Create(name, null, actor, time);
                    db.Datasets.Add(dataset);
                }

                if (dataset.Contract is null)
                {
                    dataset.ReviseContract(file.ProposedContract, actor, time);
                }

                var version = dataset.AddVersion(
                    new DatasetVersionContent(stored.Hash, stored.Size, file.Format, safeFileName, file.Rows, file.Schema, file.Profile, file.Validation, file.Pii, file.Preview),
                    description, actor, time);
                db.AuditEntries.Add(AuditEntry.Record(actor, "dataset.version-registered", $"dataset:{name}:{version.Number}", time,
                    after: $"sha256={stored.Hash}; rows={file.Rows}; validation={version.Status.ToString().ToLowerInvariant()}"));
                await db.SaveChangesAsync(cancellationToken);
                return new VersionRegistration(dataset, version, Created: true);
            }
            catch
            {
                // The bytes are committed but their version is not: remove them unless something else uses them.
                if (!stored.AlreadyExisted)
                {
                    await store.DeleteAsync(stored.Hash, CancellationToken.None);
                }

                throw;
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<DatasetPage> ListAsync(DatasetQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var datasets = db.Datasets.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var text = query.Search.Trim().ToLowerInvariant();
            datasets = datasets.Where(d => d.Name.Contains(text) || (d.Description != null && d.Description.ToLower().Contains(text)));
        }

        // Sort on the entities (EF cannot sort on a projected record), then project the page.
        var sorted = (query.SortBy, query.Descending) switch
        {
            (DatasetSort.Updated, false) => datasets.OrderBy(d => d.Versions.Max(v => (DateTime?)v.CreatedAt) ?? d.CreatedAt).ThenBy(d => d.Name),
            (DatasetSort.Updated, true) => datasets.OrderByDescending(d => d.Versions.Max(v => (DateTime?)v.CreatedAt) ?? d.CreatedAt).ThenBy(d => d.Name),
            (DatasetSort.Versions, false) => datasets.OrderBy(d => d.Versions.Count).ThenBy(d => d.Name),
            (DatasetSort.Versions, true) => datasets.OrderByDescending(d => d.Versions.Count).ThenBy(d => d.Name),
            (_, true) => datasets.OrderByDescending(d => d.Name),
            _ => datasets.OrderBy(d => d.Name),
        };
        var total = await datasets.CountAsync(cancellationToken);
        var page = await sorted.Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, MaxPageSize))
            .Select(d => new
            {
                d.Name, d.Description, d.CreatedAt, d.CreatedBy, Versions = d.Versions.Count,
                Latest = d.Versions.OrderByDescending(v => v.Number).Select(v => new { v.Number, v.Status, v.Rows, v.CreatedAt }).FirstOrDefault(),
            })
            .ToListAsync(cancellationToken);
        return new DatasetPage(page.Select(d => new DatasetSummary(
            d.Name, d.Description, d.Versions, d.Latest?.Number, d.Latest?.Status, d.Latest?.Rows, d.Latest?.CreatedAt ?? d.CreatedAt, d.CreatedBy)).ToList(), total);
    }

    /// <summary>A dataset with its versions (large version details are loaded too; use for one dataset).</summary>
    public async Task<Dataset?> FindAsync(string name, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Datasets.AsNoTracking().Include(d => d.Versions).SingleOrDefaultAsync(d => d.Name == name, cancellationToken);
    }

    public async Task<(Dataset Dataset, DatasetVersion Version)?> FindVersionAsync(string name, int number, CancellationToken cancellationToken = default)
    {
        var dataset = await FindAsync(name, cancellationToken);
        return dataset?.Versions.FirstOrDefault(v => v.Number == number) is { } version ? (dataset, version) : null;
    }

    /// <summary>
    /// One version named by its lineage reference (<c>dataset:name:number</c>), read in the caller's context
    /// without loading the dataset's other versions; null when it does not exist.
    /// </summary>
    internal static async Task<DatasetVersion?> VersionByRefAsync(PortalDbContext db, string reference, CancellationToken cancellationToken)
    {
        var parts = reference.Split(':');
        if (parts.Length != 3 || parts[0] != "dataset" || !int.TryParse(parts[2], System.Globalization.CultureInfo.InvariantCulture, out var number))
        {
            return null;
        }

        return await db.DatasetVersions.AsNoTracking()
            .Join(db.Datasets.AsNoTracking().Where(d => d.Name == parts[1]), v => v.DatasetId, d => d.Id, (v, d) => v)
            .FirstOrDefaultAsync(v => v.Number == number, cancellationToken);
    }

    /// <summary>
    /// Of the dataset references <paramref name="references"/> (a run's inputs), those whose version holds
    /// personal data, with its columns: whatever a run made from them may carry that data.
    /// </summary>
    public async Task<IReadOnlyList<(string Reference, IReadOnlySet<string> Columns)>> SensitiveAmongAsync(IEnumerable<string> references, CancellationToken cancellationToken = default)
    {
        var found = new List<(string, IReadOnlySet<string>)>();
        var wanted = references.Where(r => r.StartsWith("dataset:", StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            return found;
        }

        // Artifact downloads ask this for every file: the one version and its dataset's contract, not every version.
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        foreach (var reference in wanted)
        {
            if (await VersionByRefAsync(db, reference, cancellationToken) is { } version
                && await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == version.DatasetId, cancellationToken) is { } dataset
                && PersonalData.SensitiveColumns(dataset, version) is { Count: > 0 } columns)
            {
                found.Add((reference, columns));
            }
        }

        return found;
    }

    /// <summary>
    /// Null when <paramref name="actor"/> may read what was made from <paramref name="references"/>;
    /// otherwise why not (and the refusal is audited against <paramref name="entity"/>).
    /// </summary>
    public async Task<string?> RawReadRefusalAsync(Actor actor, string entity, IEnumerable<string> references, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (PersonalData.MayReadRaw(actor) || await SensitiveAmongAsync(references, cancellationToken) is not { Count: > 0 } sensitive)
        {
            return null;
        }

        var refusal = PersonalData.Refusal($"{entity} was made from {string.Join(", ", sensitive.Select(s => s.Reference))}, which", sensitive.SelectMany(s => s.Columns).Distinct(StringComparer.Ordinal));
        await audit.RecordAsync(actor, AuditActions.RawDataRefused, entity, reason: refusal, cancellationToken: cancellationToken);
        return refusal;
    }

    /// <summary>
    /// The original bytes of a version for <paramref name="actor"/> to download: a version holding personal
    /// data goes only to those who may read it raw, and each such download is audited.
    /// </summary>
    /// <exception cref="NotPermittedException">The version holds personal data and the actor may not read it (audited too).</exception>
    public async Task<(Stream Content, DatasetVersion Version)?> OpenOriginalAsync(string name, int number, Actor actor, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (await FindVersionAsync(name, number, cancellationToken) is not { } found)
        {
            return null;
        }

        var reference = ArtifactRef(name, number);
        if (PersonalData.SensitiveColumns(found.Dataset, found.Version) is { Count: > 0 } columns)
        {
            if (!PersonalData.MayReadRaw(actor))
            {
                var refusal = PersonalData.Refusal(reference, columns);
                await audit.RecordAsync(actor, AuditActions.RawDataRefused, reference, reason: refusal, cancellationToken: cancellationToken);
                throw new NotPermittedException(refusal);
            }

            await audit.RecordAsync(actor, AuditActions.RawDataDownloaded, reference, after: $"columns={string.Join(",", columns)}", cancellationToken: cancellationToken);
        }

        return (await OpenBytesAsync(found.Version, cancellationToken), found.Version);
    }

    private static string ArtifactRef(string name, int number) => $"dataset:{name}:{number}";

    /// <summary>The original bytes of a version.</summary>
    public async Task<(Stream Content, DatasetVersion Version)?> OpenContentAsync(string name, int number, CancellationToken cancellationToken = default)
    {
        if (await FindVersionAsync(name, number, cancellationToken) is not { } found)
        {
            return null;
        }

        return (await OpenBytesAsync(found.Version, cancellationToken), found.Version);
    }

    private async Task<Stream> OpenBytesAsync(DatasetVersion version, CancellationToken cancellationToken) =>
        await store.OpenReadAsync(version.ContentHash, cancellationToken)
            ?? throw new InvalidOperationException($"The bytes of dataset version {version.Number} ({version.ContentHash}) are missing from the artifact store.");

    /// <summary>Adopts a new contract version (creating the dataset if needed); returns it with its breaking changes.</summary>
    public async Task<DataContract> ReviseContractAsync(string name, IReadOnlyList<ContractColumn> columns, Actor actor, CancellationToken cancellationToken = default)
    {
        if (DatasetNames.Problem(name) is { } nameProblem)
        {
            throw new DatasetInputException("name", nameProblem);
        }

        var gate = Gates.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var dataset = await db.Datasets.SingleOrDefaultAsync(d => d.Name == name, cancellationToken);
            if (dataset is null)
            {
                dataset = Dataset.Create(name, null, actor, time);
                db.Datasets.Add(dataset);
            }

            var before = dataset.Contract;
            var contract = dataset.ReviseContract(columns, actor, time);
            db.AuditEntries.Add(AuditEntry.Record(actor, "dataset.contract-revised", $"dataset:{name}", time,
                before: before is null ? null : $"contract v{before.Version}",
                after: $"contract v{contract.Version}; {contract.Columns.Count} columns; {contract.BreakingChanges.Count} breaking change(s)",
                reason: contract.BreakingChanges.Count == 0 ? null : string.Join(" ", contract.BreakingChanges)));
            await db.SaveChangesAsync(cancellationToken);
            return contract;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Marks a column as sensitive (or not) by a contract revision; masking is never a breaking change.</summary>
    public async Task<DataContract> SetSensitiveAsync(string name, string column, bool sensitive, Actor actor, CancellationToken cancellationToken = default)
    {
        var dataset = await FindAsync(name, cancellationToken) ?? throw new DomainException($"There is no dataset '{name}'.");
        var contract = dataset.Contract ?? throw new DomainException($"Dataset '{name}' has no contract yet.");
        if (contract.Column(column) is null)
        {
            throw new DomainException($"The contract of '{name}' has no column '{column}'.");
        }

        return await ReviseContractAsync(name, contract.Columns.Select(c => c.Name == column ? c with { Sensitive = sensitive } : c).ToList(), actor, cancellationToken);
    }

    /// <summary>Edits what may change after registration: the description and tags of a version.</summary>
    public async Task<DatasetVersion?> DescribeVersionAsync(string name, int number, string? description, IReadOnlyList<string>? tags, Actor actor, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var version = await db.DatasetVersions
            .Where(v => v.Number == number && db.Datasets.Any(d => d.Id == v.DatasetId && d.Name == name))
            .SingleOrDefaultAsync(cancellationToken);
        if (version is null)
        {
            return null;
        }

        var before = $"description={version.Description}; tags={string.Join(",", version.Tags)}";
        if (description is not null)
        {
            version.Describe(description, actor);
        }

        if (tags is not null)
        {
            version.Tag(tags, actor);
        }

        db.AuditEntries.Add(AuditEntry.Record(actor, "dataset.version-described", $"dataset:{name}:{number}", time,
            before: before, after: $"description={version.Description}; tags={string.Join(",", version.Tags)}"));
        await db.SaveChangesAsync(cancellationToken);
        return version;
    }

    public async Task<bool> DescribeAsync(string name, string? description, Actor actor, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var dataset = await db.Datasets.SingleOrDefaultAsync(d => d.Name == name, cancellationToken);
        if (dataset is null)
        {
            return false;
        }

        var before = dataset.Description;
        dataset.Describe(description, actor);
        db.AuditEntries.Add(AuditEntry.Record(actor, "dataset.described", $"dataset:{name}", time, before: before, after: dataset.Description));
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// The uploaded file name as a label. Names with path parts are refused rather than silently cut, so
    /// nobody is misled about what was stored.
    /// </summary>
    private static string CheckFileName(string? fileName)
    {
        var name = fileName?.Trim() ?? "";
        if (name.Length == 0)
        {
            return "upload";
        }

        if (name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal) || name.Contains("..", StringComparison.Ordinal)
            || name.Any(char.IsControl))
        {
            throw new DatasetInputException("file", $"The file name '{Shorten(name)}' contains a path ('/', '\\' or '..'); send just the file's name.");
        }

        if (name.Length > MaxFileNameLength)
        {
            throw new DatasetInputException("file", $"The file name is {name.Length} characters long; at most {MaxFileNameLength} are allowed.");
        }

        return name;
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";
}
