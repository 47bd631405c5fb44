using Portal.Domain.Common;
using Portal.Domain.Identity;

namespace Portal.Domain.Datasets;

/// <summary>
/// A named dataset: its versions (immutable, numbered 1, 2, 3…, unique by content) and its data
/// contract (revised by new contract versions).
/// </summary>
public sealed class Dataset : Entity
{
    private readonly List<DatasetVersion> _versions = [];
    private List<DataContract> _contracts = [];

    private Dataset()
    {
    }

    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public string? Description { get; private set; }

    public DateTime CreatedAt { get; private set; }

    public string CreatedBy { get; private set; } = "";

    public IReadOnlyList<DatasetVersion> Versions => _versions;

    /// <summary>Every contract version, oldest first.</summary>
    public IReadOnlyList<DataContract> Contracts
    {
        get => _contracts;
        private set => _contracts = [.. value];
    }

    public DataContract? Contract => _contracts.Count == 0 ? null : _contracts[^1];

    public DatasetVersion? Latest => _versions.Count == 0 ? null : _versions.MaxBy(v => v.Number);

    public static Dataset Create(string name, string? description, Actor actor, TimeProvider time)
    {
        RequireEditor(actor, "register datasets");
        if (DatasetNames.Problem(name) is { } problem)
        {
            throw new DomainException(problem);
        }

        return new Dataset
        {
            Id = Guid.NewGuid(),
            Name = name,
            Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim(),
            CreatedAt = time.UtcNow(),
            CreatedBy = actor.Name,
        };
    }

    public DatasetVersion? VersionWithContent(string contentHash) => _versions.FirstOrDefault(v => v.ContentHash == contentHash);

    /// <summary>
    /// Adds the next version. The same bytes cannot become a second version; a version that breaks the
    /// contract is kept and marked failed by its validation report.
    /// </summary>
    public DatasetVersion AddVersion(DatasetVersionContent content, string? description, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(content);
        RequireEditor(actor, "register dataset versions");
        if (VersionWithContent(content.ContentHash) is { } same)
        {
            throw new DomainException($"These bytes are already version {same.Number} of '{Name}'.");
        }

        var version = DatasetVersion.Create(Id, (_versions.Count == 0 ? 0 : _versions.Max(v => v.Number)) + 1, content, description, actor, time);
        _versions.Add(version);
        Raise(new DatasetVersionRegistered(Name, version.Number, version.Status, actor.Name, version.CreatedAt));
        return version;
    }

    /// <summary>Adopts a new contract version; returns it with the changes that could break someone.</summary>
    public DataContract ReviseContract(IReadOnlyList<ContractColumn> columns, Actor actor, TimeProvider time)
    {
        RequireEditor(actor, "change data contracts");
        var contract = DataContract.Create(columns, Contract, actor, time);
        _contracts.Add(contract);
        Raise(new DataContractRevised(Name, contract.Version, contract.BreakingChanges.Count, actor.Name, contract.CreatedAt));
        return contract;
    }

    public void Describe(string? description, Actor actor)
    {
        RequireEditor(actor, "describe datasets");
        var text = description?.Trim();
        if (text is { Length: > DatasetVersion.MaxDescriptionLength })
        {
            throw new DomainException($"A description is at most {DatasetVersion.MaxDescriptionLength} characters.");
        }

        Description = string.IsNullOrEmpty(text) ? null : text;
    }

    /// <summary>Data scientists and administrators change data; everyone else reads it.</summary>
    public static bool CanEdit(Actor actor) =>
        actor is not null && (actor.BuildsModels || ReferenceEquals(actor, Actor.System));

    internal static void RequireEditor(Actor actor, string what)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!CanEdit(actor))
        {
            throw new NotPermittedException($"Only data scientists and administrators can {what}.");
        }
    }
}

/// <summary>A new dataset version was stored (passed or failed validation).</summary>
public sealed record DatasetVersionRegistered(string Dataset, int Version, ValidationStatus Status, string RegisteredBy, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"dataset:{Dataset}:{Version}";
}

public sealed record DataContractRevised(string Dataset, int ContractVersion, int BreakingChanges, string RevisedBy, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"dataset:{Dataset}";
}
