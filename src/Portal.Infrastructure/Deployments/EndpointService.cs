using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.Domain.Lineage;
using Portal.Domain.Models;
using Portal.Domain.Ports;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Models;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Serving;

namespace Portal.Infrastructure.Deployments;

/// <summary>A deployment as the endpoint PUT names it: its settings and its share of traffic.</summary>
public sealed record PlannedDeployment(DeploymentSpec Spec, int Traffic);

/// <summary>What <c>PUT /api/v1/endpoints/{name}</c> asks for: the deployments listed (created or updated), their traffic, the mirror.</summary>
public sealed record EndpointPlan(string? Description, IReadOnlyList<PlannedDeployment> Deployments, string? MirrorDeployment = null, int MirrorPercent = 0);

/// <summary>The keys of a new endpoint, or a regenerated one: shown once, never stored (only their hashes are).</summary>
public sealed record EndpointKeys(string? Primary, string? Secondary);

/// <summary>
/// Endpoints and their deployments: every change checked by the <see cref="Endpoint"/> aggregate, made by Ops
/// or an administrator, written in one transaction with its audit entries (before and after), then handed to
/// the backend and the gateway's routes. Two changes made at once from the same state: the second is refused.
/// </summary>
public sealed class EndpointService(
    IDbContextFactory<PortalDbContext> dbFactory,
    IWorkspaceBackend backend,
    ServingTable routes,
    IOptions<PortalOptions> options,
    TimeProvider time)
{
    public const string KeyPrefix = "mlk_";

    private int MaxInstances => options.Value.Deployments.MaxInstancesPerDeployment;

    public async Task<IReadOnlyList<Endpoint>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Endpoints.AsNoTracking().OrderBy(e => e.Name).ToListAsync(cancellationToken);
    }

    public async Task<Endpoint?> FindAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Endpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Name == name, cancellationToken);
    }

    public async Task<Endpoint> GetAsync(string name, CancellationToken cancellationToken) =>
        await FindAsync(name, cancellationToken) ?? throw new NotFoundException($"There is no endpoint '{Names.Visible(name)}'.");

    /// <summary>Where a model version is deployed: endpoint and deployment, with the share of traffic it takes.</summary>
    public async Task<IReadOnlyList<(Endpoint Endpoint, Deployment Deployment)>> WhereDeployedAsync(string model, int version, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoints = await db.Endpoints.AsNoTracking().ToListAsync(cancellationToken);
        return [.. endpoints.SelectMany(e => e.Deployments.Where(d => d.ModelName == model && d.ModelVersion == version).Select(d => (e, d)))];
    }

    /// <summary>Approved (or already deployed) versions, newest first, for the deploy dialog.</summary>
    public async Task<IReadOnlyList<ModelVersion>> DeployableAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ModelVersions.AsNoTracking().Where(v => v.State == ModelState.Approved || v.State == ModelState.Deployed)
            .OrderBy(v => v.ModelName).ThenByDescending(v => v.Version).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Creates the endpoint when it is new, adds or updates the deployments listed, and sets the traffic to
    /// the listed shares (deployments left out take none). All of it or none of it.
    /// </summary>
    public async Task<(Endpoint Endpoint, EndpointKeys? Keys)> ApplyAsync(string name, EndpointPlan plan, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Authorize(actor);
        var errors = new FieldErrors();
        if (EndpointNames.Problem(name, "name") is { } nameProblem)
        {
            errors.Add("name", nameProblem);
        }

        for (var i = 0; i < plan.Deployments.Count; i++)
        {
            foreach (var field in plan.Deployments[i].Spec.Problems(MaxInstances, $"deployments[{i}].") is var problems ? problems.Fields : [])
            {
                foreach (var message in problems.For(field))
                {
                    errors.Add(field, message);
                }
            }
        }

        foreach (var duplicate in plan.Deployments.GroupBy(d => d.Spec.Name).Where(g => g.Count() > 1))
        {
            errors.Add("deployments", $"deployments: '{duplicate.Key}' is listed {duplicate.Count()} times.");
        }

        if (plan.Deployments.Count > Endpoint.MaxDeployments)
        {
            errors.Add("deployments", $"deployments: {plan.Deployments.Count} listed; an endpoint has at most {Endpoint.MaxDeployments}.");
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        EndpointKeys? keys = null;
        var endpoint = await SaveAsync(name, create: true, async (db, endpoint) =>
        {
            if (endpoint is null)
            {
                keys = new EndpointKeys(NewKey(), NewKey());
                endpoint = Endpoint.Create(name, plan.Description, actor, time, Hash(keys.Primary!), Hash(keys.Secondary!));
                db.Endpoints.Add(endpoint);
                db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.EndpointCreated, endpoint.Ref, time, after: "keys issued (primary, secondary)"));
            }

            foreach (var planned in plan.Deployments)
            {
                await AddOrUpdateAsync(db, endpoint, planned.Spec, actor, cancellationToken);
            }

            var traffic = plan.Deployments.ToDictionary(d => d.Spec.Name, d => d.Traffic, StringComparer.Ordinal);
            SetTraffic(db, endpoint, new TrafficAssignment(traffic, plan.MirrorDeployment, plan.MirrorPercent), actor, "endpoint PUT");
            return endpoint;
        }, cancellationToken);
        return (endpoint, keys);
    }

    public Task<Endpoint> AddDeploymentAsync(string endpointName, DeploymentSpec spec, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Authorize(actor);
        return SaveAsync(endpointName, create: false, async (db, endpoint) =>
        {
            if (endpoint!.Find(spec.Name) is not null)
            {
                throw new DomainException($"Endpoint {endpoint.Name} already has a deployment named {spec.Name}; choose another name, or update that one.");
            }

            await AddOrUpdateAsync(db, endpoint, spec, actor, cancellationToken);
            return endpoint;
        }, cancellationToken);
    }

    public Task<Endpoint> UpdateDeploymentAsync(string endpointName, DeploymentSpec spec, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Authorize(actor);
        return SaveAsync(endpointName, create: false, async (db, endpoint) =>
        {
            endpoint!.Get(spec.Name);
            await AddOrUpdateAsync(db, endpoint, spec, actor, cancellationToken);
            return endpoint;
        }, cancellationToken);
    }

    /// <summary>Takes a deployment down (refused while it takes traffic); it disappears once its instances stopped.</summary>
    public Task<Endpoint> DeleteDeploymentAsync(string endpointName, string deployment, Actor actor, CancellationToken cancellationToken)
    {
        Authorize(actor);
        return SaveAsync(endpointName, create: false, (db, endpoint) =>
        {
            var found = endpoint!.Get(deployment);
            endpoint.RemoveDeployment(deployment, actor, time);
            db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.DeploymentDeleted, $"deployment:{endpoint.Name}:{deployment}", time,
                before: $"model={found.ModelName}:{found.ModelVersion}; instances={found.InstanceCount}; state={found.State}", after: "state=Deleting"));
            return Task.FromResult(endpoint);
        }, cancellationToken);
    }

    /// <summary>Deletes an endpoint that has no deployments left.</summary>
    public async Task DeleteEndpointAsync(string endpointName, Actor actor, CancellationToken cancellationToken)
    {
        Authorize(actor);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoint = await db.Endpoints.FirstOrDefaultAsync(e => e.Name == endpointName, cancellationToken)
            ?? throw new NotFoundException($"There is no endpoint '{Names.Visible(endpointName)}'.");
        if (endpoint.Deployments.Count > 0)
        {
            throw new DomainException($"Endpoint {endpoint.Name} still has {endpoint.Deployments.Count} deployment(s) ({string.Join(", ", endpoint.Deployments.Select(d => d.Name))}); move their traffic away and delete them first.");
        }

        db.Endpoints.Remove(endpoint);
        db.AlertRules.RemoveRange(db.AlertRules.Where(r => r.Endpoint == endpoint.Name));
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.EndpointDeleted, endpoint.Ref, time, before: endpoint.Description));
        await db.SaveChangesAsync(cancellationToken);
        await routes.RefreshAsync(cancellationToken);
    }

    /// <summary>
    /// Sets the split. <paramref name="expectedStamp"/>, when given, is the stamp of the endpoint as the caller
    /// last read it: if someone changed it since, the change is refused (409) instead of overwriting theirs.
    /// </summary>
    public Task<Endpoint> SetTrafficAsync(string endpointName, TrafficAssignment assignment, Guid? expectedStamp, Actor actor, CancellationToken cancellationToken, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(assignment);
        Authorize(actor);
        return SaveAsync(endpointName, create: false, (db, endpoint) =>
        {
            if (expectedStamp is { } expected && expected != endpoint!.ConcurrencyStamp)
            {
                throw new DomainException(Conflict(endpoint.Name));
            }

            SetTraffic(db, endpoint!, assignment, actor, reason);
            return Task.FromResult(endpoint!);
        }, cancellationToken);
    }

    /// <summary>One click: back to the assignment before the last change (a rollout in progress stops).</summary>
    public Task<Endpoint> RollbackAsync(string endpointName, Actor actor, CancellationToken cancellationToken)
    {
        Authorize(actor);
        return SaveAsync(endpointName, create: false, (db, endpoint) =>
        {
            var had = endpoint!.History.LastOrDefault();
            var rollout = endpoint.ActiveRollout;
            endpoint.Rollback(actor, time);
            AuditTraffic(db, endpoint, had, actor, time);
            if (rollout is not null)
            {
                db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.RolloutProgressed, endpoint.Ref, time, before: $"rollout of {rollout.Plan.Canary} in progress", after: "canceled by a manual rollback"));
            }

            return Task.FromResult(endpoint);
        }, cancellationToken);
    }

    public Task<Endpoint> StartRolloutAsync(string endpointName, RolloutPlan plan, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Authorize(actor);
        return SaveAsync(endpointName, create: false, (db, endpoint) =>
        {
            var had = endpoint!.History.LastOrDefault();
            var rollout = endpoint.StartRollout(plan, actor, time);
            db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.RolloutStarted, endpoint.Ref, time, before: rollout.Baseline.Describe(), after: plan.Describe()));
            AuditTraffic(db, endpoint, had, actor, time);
            return Task.FromResult(endpoint);
        }, cancellationToken);
    }

    public Task<Endpoint> StopRolloutAsync(string endpointName, Actor actor, CancellationToken cancellationToken)
    {
        Authorize(actor);
        return SaveAsync(endpointName, create: false, (db, endpoint) =>
        {
            var had = endpoint!.History.LastOrDefault();
            endpoint.StopRollout(actor, time);
            db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.RolloutProgressed, endpoint.Ref, time, after: endpoint.PastRollouts[^1].Reason));
            AuditTraffic(db, endpoint, had, actor, time);
            return Task.FromResult(endpoint);
        }, cancellationToken);
    }

    /// <summary>A new primary or secondary key; returned once. Callers using the other key keep working.</summary>
    public async Task<string> RegenerateKeyAsync(string endpointName, EndpointKey which, Actor actor, CancellationToken cancellationToken)
    {
        Authorize(actor);
        var key = NewKey();
        await SaveAsync(endpointName, create: false, (db, endpoint) =>
        {
            endpoint!.RotateKey(which, Hash(key), actor, time);
            db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.EndpointKeyRegenerated, endpoint.Ref, time, after: $"{which.ToString().ToLowerInvariant()} key replaced"));
            return Task.FromResult(endpoint);
        }, cancellationToken);
        return key;
    }

    /// <summary>SHA-256 of a key, as stored and compared.</summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private static string NewKey() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static void Authorize(Actor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!Endpoint.MayOperate(actor))
        {
            throw new NotPermittedException("Only Ops and administrators change endpoints, deployments and traffic.");
        }
    }

    private static string Conflict(string endpoint) =>
        $"Endpoint {endpoint} was changed by someone else at the same time (or since you opened it); reload it and make your change again.";

    private async Task AddOrUpdateAsync(PortalDbContext db, Endpoint endpoint, DeploymentSpec spec, Actor actor, CancellationToken cancellationToken)
    {
        if (endpoint.Find(spec.Name) is { } existing)
        {
            var before = Describe(existing);
            if (endpoint.UpdateDeployment(spec, MaxInstances, actor, time))
            {
                db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.DeploymentUpdated, $"deployment:{endpoint.Name}:{spec.Name}", time, before: before, after: Describe(existing)));
            }

            return;
        }

        var version = await db.ModelVersions.FirstOrDefaultAsync(v => v.ModelName == spec.Model && v.Version == spec.Version, cancellationToken)
            ?? throw new InvalidInputException("model", $"model: there is no version {spec.Version} of model '{Names.Visible(spec.Model)}'.");
        var from = version.State;
        var approved = await db.ApprovalRequests.AsNoTracking().Where(r => r.ModelName == version.ModelName && r.Version == version.Version && r.State == ApprovalState.Approved)
            .Select(r => r.ArtifactHash).FirstOrDefaultAsync(cancellationToken);
        if (version.State is ModelState.Approved or ModelState.Deployed && approved is not null && !string.Equals(approved, version.ArtifactHash, StringComparison.OrdinalIgnoreCase))
        {
            throw new DomainException($"{version.Label} was approved for {approved[..12]}… but is bound to {version.ArtifactHash[..12]}…; it cannot be deployed.");
        }

        var deployment = endpoint.AddDeployment(spec, version, MaxInstances, actor, time);
        ModelValidation.AuditStateChange(db, version, from, actor, time);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.DeploymentCreated, $"deployment:{endpoint.Name}:{spec.Name}", time, after: Describe(deployment)));
        var deploymentRef = ArtifactRef.Parse($"deployment:{endpoint.Name}:{spec.Name}");
        if (!await db.LineageEdges.AnyAsync(e => e.From == deployment.ModelRef && e.To == deploymentRef.ToString(), cancellationToken))
        {
            db.LineageEdges.Add(LineageEdge.Record(ArtifactRef.Parse(deployment.ModelRef), deploymentRef, LineageRelation.DeployedAs, actor, time));
        }
    }

    private void SetTraffic(PortalDbContext db, Endpoint endpoint, TrafficAssignment assignment, Actor actor, string? reason)
    {
        var had = endpoint.History.LastOrDefault();
        var rollout = endpoint.ActiveRollout;
        endpoint.SetTraffic(assignment, actor, time, reason);
        AuditTraffic(db, endpoint, had, actor, time);
        if (rollout is not null && endpoint.ActiveRollout is null)
        {
            db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.RolloutProgressed, endpoint.Ref, time, after: endpoint.PastRollouts[^1].Reason));
        }
    }

    /// <summary>An audit entry for each traffic change the endpoint recorded after <paramref name="last"/> (the newest before the change).</summary>
    internal static void AuditTraffic(PortalDbContext db, Endpoint endpoint, TrafficChange? last, Actor actor, TimeProvider time)
    {
        var history = endpoint.History;
        var start = last is null ? 0 : history.Select((c, i) => (c, i)).Where(p => ReferenceEquals(p.c, last)).Select(p => p.i + 1).DefaultIfEmpty(history.Count).First();
        foreach (var change in history.Skip(start))
        {
            db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.TrafficChanged, endpoint.Ref, time,
                before: change.Before.Describe(), after: change.After.Describe(), reason: $"{change.Kind}{(change.Reason is null ? "" : $": {change.Reason}")}"));
        }
    }

    private static string Describe(Deployment d) =>
        $"model={d.ModelName}:{d.ModelVersion}; instances={d.InstanceCount}; timeoutMs={d.RequestTimeoutMs}; maxConcurrent={d.MaxConcurrentRequestsPerInstance}; sha256={d.ArtifactHash}";

    /// <summary>Loads the endpoint (tracked), applies <paramref name="change"/>, saves in one transaction, then tells the backend and the gateway.</summary>
    private async Task<Endpoint> SaveAsync(string name, bool create, Func<PortalDbContext, Endpoint?, Task<Endpoint>> change, CancellationToken cancellationToken)
    {
        Endpoint saved;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var endpoint = await db.Endpoints.FirstOrDefaultAsync(e => e.Name == name, cancellationToken);
            if (endpoint is null && !create)
            {
                throw new NotFoundException($"There is no endpoint '{Names.Visible(name)}'.");
            }

            saved = await change(db, endpoint);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                throw new DomainException(Conflict(name));
            }
            catch (DbUpdateException e) when (endpoint is null && DatabaseErrors.IsUniqueViolation(e))
            {
                throw new DomainException(Conflict(name));
            }
        }

        await backend.ApplyEndpointAsync(name, cancellationToken);
        await routes.RefreshAsync(cancellationToken);
        return saved;
    }
}
