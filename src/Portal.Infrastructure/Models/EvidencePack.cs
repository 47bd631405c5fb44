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
public sealed class EvidencePacks(IDbContextFactory<PortalDbContext> dbFactory, Approvals approvals, RegistryPolicies policies)
{
    /// <summary>A page of the inbox: the requests with their versions and risk, read in a fixed number of queries.</summary>
    public async Task<(IReadOnlyList<InboxRow> Rows, int Total)> InboxAsync(ApprovalQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        // "Waiting for you" depends on each request's policy snapshot and decisions, so it is filtered here over
        // every open request (a bounded set: one per version awaiting review) and paged after filtering.
        var decider = query.DecidableBy;
        var page = await approvals.ListAsync(decider is null ? query : query with { State = ApprovalState.Open, Skip = 0, Take = 500 }, cancellationToken);
        var names = page.Requests.Select(r => r.ModelName).Distinct(StringComparer.Ordinal).ToList();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var versions = (await db.ModelVersions.AsNoTracking().Where(v => names.Contains(v.ModelName)).ToListAsync(cancellationToken))
            .ToDictionary(v => (v.ModelName, v.Version));
        var governance = new Dictionary<string, EffectivePolicy>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            governance[name] = await policies.ForModelAsync(name, cancellationToken);
        }

        IEnumerable<ApprovalRequest> requests = page.Requests;
        var total = page.Total;
        if (decider is not null)
        {
            var decidable = requests.Where(r => r.WhyNot(decider, versions[(r.ModelName, r.Version)]) is null).ToList();
            (requests, total) = (decidable.Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 500)), decidable.Count);
        }

        return ([.. requests.Select(request =>
        {
            var version = versions[(request.ModelName, request.Version)];
            var (risk, reasons) = ReviewRisk.Assess(version, governance[request.ModelName].Validation);
            return new InboxRow(request, version, risk, reasons[0], version.Checks.Count(c => c.Status == CheckStatus.Passed), version.Checks.Count);
        })], total);
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
