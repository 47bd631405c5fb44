using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Datasets;
using Portal.Domain.Models;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Models;

/// <summary>A training dataset version with its validation outcome, as the reviewer sees it.</summary>
public sealed record TrainingData(string Ref, string Name, int Number, ValidationStatus? Status, long Rows, int Errors, int Warnings);

/// <summary>Everything a reviewer needs about one version, loaded together.</summary>
public sealed record EvidencePack(
    ModelVersion Version,
    EffectivePolicy Governance,
    RiskLevel Risk,
    IReadOnlyList<string> RiskReasons,
    IReadOnlyList<TrainingData> TrainingData,
    IReadOnlyList<ApprovalRequest> Requests);

/// <summary>One line of the reviewer inbox.</summary>
public sealed record InboxRow(ApprovalRequest Request, ModelVersion Version, RiskLevel Risk, string RiskReason, int ChecksPassed, int Checks);

/// <summary>Loads evidence packs and the registry's lists for pages.</summary>
public sealed class EvidencePacks(IDbContextFactory<PortalDbContext> dbFactory, RegistryPolicies policies)
{
    /// <summary>Requests in a state (all when null), filtered by model name, sorted by age or model, one page.</summary>
    public async Task<(IReadOnlyList<InboxRow> Rows, int Total)> InboxAsync(ApprovalState? state, string? model, string? orderBy, bool descending, int skip, int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var requests = db.ApprovalRequests.AsNoTracking();
        if (state is { } wanted)
        {
            requests = requests.Where(r => r.State == wanted);
        }

        if (!string.IsNullOrWhiteSpace(model))
        {
            requests = requests.Where(r => r.ModelName.Contains(model.Trim()));
        }

        var total = await requests.CountAsync(cancellationToken);
        requests = (orderBy, descending) switch
        {
            ("Model", false) => requests.OrderBy(r => r.ModelName).ThenBy(r => r.Version),
            ("Model", true) => requests.OrderByDescending(r => r.ModelName).ThenByDescending(r => r.Version),
            // Oldest first by default: the request that has waited longest is at the top.
            (_, true) => requests.OrderByDescending(r => r.RequestedAt),
            _ => requests.OrderBy(r => r.RequestedAt),
        };
        var page = await requests.Skip(Math.Max(0, skip)).Take(Math.Clamp(take, 1, 200)).ToListAsync(cancellationToken);
        var rows = new List<InboxRow>();
        foreach (var request in page)
        {
            var version = await db.ModelVersions.AsNoTracking().FirstAsync(v => v.ModelName == request.ModelName && v.Version == request.Version, cancellationToken);
            var governance = await policies.ForModelAsync(request.ModelName, cancellationToken);
            var (risk, reasons) = ReviewRisk.Assess(version, governance.Validation);
            rows.Add(new InboxRow(request, version, risk, reasons[0], version.Checks.Count(c => c.Status == CheckStatus.Passed), version.Checks.Count));
        }

        return (rows, total);
    }

    public async Task<EvidencePack?> LoadAsync(string name, int number, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var version = await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.ModelName == name && v.Version == number, cancellationToken);
        if (version is null)
        {
            return null;
        }

        var governance = await policies.ForModelAsync(name, cancellationToken);
        var training = new List<TrainingData>();
        foreach (var reference in version.TrainingDatasets)
        {
            var parts = reference.Split(':');
            var n = int.Parse(parts[2], CultureInfo.InvariantCulture);
            var found = await DatasetCatalog.VersionByRefAsync(db, reference, cancellationToken);
            training.Add(found is null
                ? new TrainingData(reference, parts[1], n, null, 0, 0, 0)
                : new TrainingData(reference, parts[1], n, found.Status, found.Rows,
                    found.Validation.Failures.Count(f => f.Severity == Severity.Error), found.Validation.Failures.Count(f => f.Severity == Severity.Warning)));
        }

        var requests = await db.ApprovalRequests.AsNoTracking().Where(r => r.ModelName == name && r.Version == number).OrderByDescending(r => r.RequestedAt).ToListAsync(cancellationToken);
        var (risk, reasons) = ReviewRisk.Assess(version, governance.Validation);
        return new EvidencePack(version, governance, risk, reasons, training, requests);
    }
}
