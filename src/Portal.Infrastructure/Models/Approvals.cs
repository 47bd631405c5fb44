using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Models;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Models;

/// <summary>A page of approval requests with the total, for the inbox.</summary>
public sealed record ApprovalPage(IReadOnlyList<ApprovalRequest> Requests, int Total);

/// <summary>Which approval requests to list: by state and model (exact name, or a part of it), sorted by model or waiting time.</summary>
/// <param name="DecidableBy">Only open requests this person may still decide (not their own, not decided by them yet).</param>
public sealed record ApprovalQuery(
    ApprovalState? State = null, string? Model = null, bool ModelContains = false, string? OrderBy = null, bool Descending = false, int Skip = 0, int Take = 100,
    Actor? DecidableBy = null);

/// <summary>
/// The risk-review workflow: requests are opened under the model's policy; decisions are checked by the
/// domain, saved with optimistic concurrency (two reviewers at the same instant: exactly one wins) and audited,
/// refusals included.
/// </summary>
public sealed class Approvals(IDbContextFactory<PortalDbContext> dbFactory, RegistryPolicies policies, ModelRegistry registry, TimeProvider time)
{
    public async Task<ApprovalRequest> RequestAsync(string modelName, int number, string? comment, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!RegisteredModel.CanRegister(actor))
        {
            throw new NotPermittedException("Only data scientists and administrators can ask for approval.");
        }

        if ((comment ?? "").Length > 4000)
        {
            throw new InvalidInputException("comment", "comment: at most 4,000 characters.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var version = await db.ModelVersions.FirstOrDefaultAsync(v => v.ModelName == modelName && v.Version == number, cancellationToken)
            ?? throw new NotFoundException($"There is no version {number} of model '{modelName}'.");
        var (policy, _) = await policies.EffectiveAsync(db, modelName, cancellationToken);
        var from = version.State;
        var passed = version.Checks.Where(c => c.Status == CheckStatus.Passed).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var request = ApprovalRequest.Open(version, policy, passed, actor, comment, time);
        db.ApprovalRequests.Add(request);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ApprovalRequested, Ref(version), time,
            after: $"request={request.Id}; approvals required={policy.ApprovalsRequired}; reviewer role={policy.ReviewerRole}; expires={request.ExpiresAt:O}", reason: request.Comment));
        ModelValidation.AuditStateChange(db, version, from, actor, time);
        await db.SaveChangesAsync(cancellationToken);
        return request;
    }

    /// <summary>Records a reviewer's decision.</summary>
    /// <exception cref="NotPermittedException">Wrong role or the reviewer's own model (audited).</exception>
    /// <exception cref="InvalidInputException">No reason.</exception>
    /// <exception cref="DomainException">Not open (decided, expired, void), decided twice, or another decision won the race.</exception>
    public async Task<ApprovalRequest> DecideAsync(Guid requestId, Verdict verdict, string? reason, Actor reviewer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reviewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var request = await db.ApprovalRequests.FirstOrDefaultAsync(r => r.Id == requestId, cancellationToken)
            ?? throw new NotFoundException($"There is no approval request {requestId}.");
        var version = await db.ModelVersions.FirstAsync(v => v.ModelName == request.ModelName && v.Version == request.Version, cancellationToken);
        var digest = await registry.CurrentArtifactHashAsync(db, version, cancellationToken) ?? "";
        var (stateBefore, versionBefore) = (request.State, version.State);
        try
        {
            request.Decide(reviewer, verdict, reason, version, digest, time);
        }
        catch (NotPermittedException e)
        {
            await RecordRefusalAsync(request, version, reviewer, verdict, e.Message, cancellationToken);
            throw;
        }
        catch (DomainException) when (request.State != stateBefore)
        {
            // Expired or void on the way in: keep that outcome, then say no.
            Audit(db, request, version, versionBefore, reviewer, null, null);
            await SaveAsync(db, cancellationToken);
            throw;
        }

        Audit(db, request, version, versionBefore, reviewer, verdict, reason);
        await SaveAsync(db, cancellationToken);
        return request;
    }

    public async Task<ApprovalPage> ListAsync(ApprovalQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var requests = db.ApprovalRequests.AsNoTracking();
        if (query.State is { } wanted)
        {
            requests = requests.Where(r => r.State == wanted);
        }

        if (!string.IsNullOrWhiteSpace(query.Model))
        {
            var model = query.Model.Trim();
            requests = query.ModelContains ? requests.Where(r => r.ModelName.Contains(model)) : requests.Where(r => r.ModelName == model);
        }

        var total = await requests.CountAsync(cancellationToken);
        requests = (query.OrderBy, query.Descending) switch
        {
            ("Model", false) => requests.OrderBy(r => r.ModelName).ThenBy(r => r.Version),
            ("Model", true) => requests.OrderByDescending(r => r.ModelName).ThenByDescending(r => r.Version),
            ("Waiting", false) => requests.OrderByDescending(r => r.RequestedAt),
            ("Waiting", true) => requests.OrderBy(r => r.RequestedAt),
            // Open requests oldest first (the one that has waited longest is at the top); history newest first.
            _ => query.State == ApprovalState.Open ? requests.OrderBy(r => r.RequestedAt) : requests.OrderByDescending(r => r.RequestedAt),
        };
        return new(await requests.Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 500)).ToListAsync(cancellationToken), total);
    }

    public async Task<ApprovalRequest?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ApprovalRequests.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, cancellationToken);
    }

    /// <summary>Closes open requests past their time; returns how many.</summary>
    public async Task<int> ExpireDueAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = time.UtcNow();
        var due = await db.ApprovalRequests.Where(r => r.State == ApprovalState.Open && r.ExpiresAt < now).ToListAsync(cancellationToken);
        foreach (var request in due)
        {
            var version = await db.ModelVersions.FirstAsync(v => v.ModelName == request.ModelName && v.Version == request.Version, cancellationToken);
            var before = version.State;
            if (request.ExpireIfDue(version, time))
            {
                Audit(db, request, version, before, Actor.System, null, null);
            }
        }

        await SaveAsync(db, cancellationToken);
        return due.Count;
    }

    private void Audit(PortalDbContext db, ApprovalRequest request, ModelVersion version, ModelState versionBefore, Actor actor, Verdict? verdict, string? reason)
    {
        if (verdict is { } given)
        {
            db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ApprovalDecided, Ref(version), time,
                after: string.Create(CultureInfo.InvariantCulture, $"request={request.Id}; verdict={given.ToString().ToLowerInvariant()}; approvals={request.ApprovalsGiven}/{request.Policy.ApprovalsRequired}; request state={request.State}"),
                reason: reason?.Trim()));
        }
        else
        {
            db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ApprovalClosed, Ref(version), time,
                before: "request state=Open", after: $"request={request.Id}; request state={request.State}", reason: version.StateReason));
        }

        ModelValidation.AuditStateChange(db, version, versionBefore, actor, time);
    }

    private async Task RecordRefusalAsync(ApprovalRequest request, ModelVersion version, Actor reviewer, Verdict verdict, string why, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.AuditEntries.Add(AuditEntry.Record(reviewer, AuditActions.ApprovalRefused, Ref(version), time,
            after: $"request={request.Id}; tried to {verdict.ToString().ToLowerInvariant()}", reason: why));
        await db.SaveChangesAsync(cancellationToken);
    }

    private static async Task SaveAsync(PortalDbContext db, CancellationToken cancellationToken)
    {
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            throw new DomainException("Another reviewer decided on this request at the same moment; reload it to see where it stands.");
        }
    }

    private static string Ref(ModelVersion version) => $"model:{version.ModelName}:{version.Version}";
}
