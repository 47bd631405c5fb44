using System.Globalization;
using Portal.Domain.Common;
using Portal.Domain.Models;

namespace Portal.Domain.Deployments;

/// <summary>Which of an endpoint's two keys (Azure ML's primary and secondary, so one can be rotated while callers use the other).</summary>
public enum EndpointKey
{
    Primary,
    Secondary,
}

/// <summary>
/// An online endpoint (Azure ML's managed online endpoint): a stable scoring address in front of up to
/// <see cref="MaxDeployments"/> deployments, with the traffic split between them, a mirror, the history of
/// every change and the canary rollouts. Every rule of design.md §2 and of Azure ML's traffic model is
/// enforced here; the backend only reports what it observes (<see cref="ReportHealth"/>,
/// <see cref="ObserveRollout"/>).
/// </summary>
public sealed partial class Endpoint : Entity
{
    public const int MaxDeployments = 20;
    public const int MaxHistory = 200;
    public const int MaxPastRollouts = 20;
    public const int MaxDescription = 2000;

    private readonly List<Deployment> _deployments = [];

    private Endpoint()
    {
    }

    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public string? Description { get; private set; }

    public string CreatedBy { get; private set; } = "";

    public DateTime CreatedAt { get; private set; }

    /// <summary>In the order they were added (the database keeps none): the same order, and colours, on every bar, table and chart.</summary>
    public IReadOnlyList<Deployment> Deployments => [.. _deployments.OrderBy(d => d.CreatedAt).ThenBy(d => d.Name, StringComparer.Ordinal)];

    public TrafficAssignment Assignment { get; private set; } = TrafficAssignment.None;

    /// <summary>Traffic changes, newest last (the last <see cref="MaxHistory"/>).</summary>
    public IReadOnlyList<TrafficChange> History { get; private set; } = [];

    public Rollout? ActiveRollout { get; private set; }

    /// <summary>Rollouts that ended, newest last.</summary>
    public IReadOnlyList<Rollout> PastRollouts { get; private set; } = [];

    /// <summary>SHA-256 of the primary key; the key itself is shown once and never stored.</summary>
    public string PrimaryKeyHash { get; private set; } = "";

    public string SecondaryKeyHash { get; private set; } = "";

    public DateTime KeysChangedAt { get; private set; }

    /// <summary>Changes with every edit people make, so of two edits made at once the second is refused.</summary>
    public Guid ConcurrencyStamp { get; private set; }

    public string Ref => $"endpoint:{Name}";

    /// <summary>Ops and administrators run deployments; everyone else who may open the area reads them.</summary>
    public static bool MayOperate(Actor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return actor.IsIn(Identity.Roles.Ops) || actor.IsIn(Identity.Roles.Admin);
    }

    public static Endpoint Create(string name, string? description, Actor actor, TimeProvider time, string primaryKeyHash, string secondaryKeyHash)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (EndpointNames.Problem(name, "name") is { } problem)
        {
            throw new InvalidInputException("name", problem);
        }

        if ((description ?? "").Length > MaxDescription)
        {
            throw new InvalidInputException("description", $"description: at most {MaxDescription:N0} characters.");
        }

        var now = time.UtcNow();
        var endpoint = new Endpoint
        {
            Id = Guid.NewGuid(),
            Name = name,
            Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim(),
            CreatedBy = actor.Name,
            CreatedAt = now,
            PrimaryKeyHash = primaryKeyHash,
            SecondaryKeyHash = secondaryKeyHash,
            KeysChangedAt = now,
            ConcurrencyStamp = Guid.NewGuid(),
        };
        endpoint.Raise(new EndpointChanged(name, "created", actor.Name, now));
        return endpoint;
    }

    public Deployment? Find(string deployment) => _deployments.FirstOrDefault(d => d.Name == deployment);

    public Deployment Get(string deployment) =>
        Find(deployment) ?? throw new NotFoundException($"Endpoint {Name} has no deployment '{Names.Visible(deployment)}'.");

    /// <summary>
    /// Adds a deployment of an approved version (or one already deployed elsewhere); the version is
    /// recorded as Deployed. It starts with no traffic.
    /// </summary>
    public Deployment AddDeployment(DeploymentSpec spec, ModelVersion version, int maxInstances, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(actor);
        var errors = spec.Problems(maxInstances);
        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        if (Find(spec.Name) is not null)
        {
            throw new DomainException($"Endpoint {Name} already has a deployment named {spec.Name}; choose another name, or update that one.");
        }

        if (_deployments.Count >= MaxDeployments)
        {
            throw new DomainException($"Endpoint {Name} has {_deployments.Count} deployments, the most an endpoint may have; delete one that takes no traffic first.");
        }

        if (version.ModelName != spec.Model || version.Version != spec.Version)
        {
            throw new DomainException($"The deployment names {spec.Model} version {spec.Version} but was given {version.Label}.");
        }

        if (version.State == ModelState.Approved)
        {
            version.Deploy(time);
        }
        else if (version.State != ModelState.Deployed)
        {
            throw new DomainException($"{version.Label} is {ModelVersion.Describe(version.State)}; only an approved version can be deployed."
                + (version.State is ModelState.Validated or ModelState.PendingApproval ? " Ask reviewers to approve it first." : ""));
        }

        var now = time.UtcNow();
        var deployment = Deployment.Create(spec, version.ArtifactHash, actor, now);
        _deployments.Add(deployment);
        Touch();
        Raise(new EndpointChanged(Name, $"deployment {spec.Name} added ({version.Label})", actor.Name, now));
        Raise(new DeploymentHealthChanged(Name, spec.Name, null, deployment.State, deployment.StateReason, now));
        return deployment;
    }

    /// <summary>New settings for a deployment (instances, timeout, limits, probes); false when nothing changed.</summary>
    public bool UpdateDeployment(DeploymentSpec spec, int maxInstances, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(actor);
        var errors = spec.Problems(maxInstances);
        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        var deployment = Get(spec.Name);
        if (deployment.State == DeploymentState.Deleting)
        {
            throw new DomainException($"Deployment {spec.Name} is being deleted.");
        }

        var from = deployment.State;
        var now = time.UtcNow();
        if (!deployment.Update(spec, now))
        {
            return false;
        }

        Touch();
        Raise(new EndpointChanged(Name, $"deployment {spec.Name} updated", actor.Name, now));
        Raise(new DeploymentHealthChanged(Name, spec.Name, from, deployment.State, deployment.StateReason, now));
        return true;
    }

    /// <summary>Starts taking a deployment down. One that takes live or mirror traffic, or is the canary of a rollout, is refused.</summary>
    public void RemoveDeployment(string name, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var deployment = Get(name);
        if (Assignment.PercentOf(name) > 0)
        {
            throw new DomainException($"Deployment {name} takes {Assignment.PercentOf(name)} % of {Name}'s traffic; move its traffic to another deployment before deleting it.");
        }

        if (Assignment.MirrorDeployment == name)
        {
            throw new DomainException($"Deployment {name} receives {Assignment.MirrorPercent} % of {Name}'s traffic as a mirror; stop mirroring to it before deleting it.");
        }

        if (ActiveRollout is { } rollout && (rollout.Plan.Canary == name || rollout.Baseline.PercentOf(name) > 0))
        {
            throw new DomainException($"Deployment {name} is part of the rollout in progress; stop the rollout first.");
        }

        if (deployment.State == DeploymentState.Deleting)
        {
            return;
        }

        var from = deployment.State;
        var now = time.UtcNow();
        deployment.MarkDeleting(now);
        Touch();
        Raise(new EndpointChanged(Name, $"deployment {name} deleted", actor.Name, now));
        Raise(new DeploymentHealthChanged(Name, name, from, DeploymentState.Deleting, deployment.StateReason, now));
    }

    /// <summary>The backend stopped a deleted deployment's instances: it is gone.</summary>
    public Deployment ForgetDeployment(string name)
    {
        var deployment = Get(name);
        if (deployment.State != DeploymentState.Deleting)
        {
            throw new DomainException($"Deployment {name} is {deployment.State}; only a deployment being deleted can be forgotten.");
        }

        _deployments.Remove(deployment);
        return deployment;
    }

    /// <summary>
    /// Sets the split by hand. A rollout in progress is cancelled (the person now decides). Refused with the
    /// fields named when it breaks a rule; a change to the same split is a no-op.
    /// </summary>
    public void SetTraffic(TrafficAssignment next, Actor actor, TimeProvider time, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(next);
        ArgumentNullException.ThrowIfNull(actor);
        Check(next);
        if (next == Assignment)
        {
            return;
        }

        var now = time.UtcNow();
        if (ActiveRollout is not null)
        {
            End(RolloutState.Canceled, $"{actor.Name} set the traffic by hand during the rollout; it stopped there.", now, problem: false);
        }

        Move(next, actor.Name, TrafficChangeKind.Manual, reason, now);
    }

    /// <summary>
    /// One-click rollback to the previous assignment: the newest settled split that differs from the current one
    /// (so after a completed canary, the split before it; after an automatic rollback, the production split before
    /// that). A rollout in progress stops and its baseline returns.
    /// </summary>
    public void Rollback(Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var now = time.UtcNow();
        if (ActiveRollout is { } rollout)
        {
            End(RolloutState.Canceled, $"{actor.Name} rolled back by hand.", now, problem: false);
            Move(rollout.Baseline, actor.Name, TrafficChangeKind.Rollback, "rolled back by hand during a rollout", now);
            return;
        }

        var target = History.Reverse().Where(c => c.Settled && c.After != Assignment).Select(c => (c.At, Split: c.After))
            .Concat(History.Take(1).Where(c => c.Before.TakesTraffic && c.Before != Assignment).Select(c => (At: DateTime.MinValue, Split: c.Before)))
            .FirstOrDefault();
        if (target.Split is null)
        {
            throw new DomainException($"Endpoint {Name}'s traffic has had no other split; there is nothing to roll back to.");
        }

        var previous = target.Split;
        var missing = previous.Traffic.Keys.Where(d => Find(d) is not { MayTakeTraffic: true }).ToList();
        if (missing.Count > 0)
        {
            throw new DomainException($"The previous assignment ({previous.Describe()}) sends traffic to {string.Join(", ", missing)}, which can no longer take it.");
        }

        Move(previous, actor.Name, TrafficChangeKind.Rollback,
            target.At == DateTime.MinValue ? "back to the first assignment" : $"back to the assignment of {target.At.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC", now);
    }

    /// <summary>Records the health the backend observed; returns false when nothing changed.</summary>
    public bool ReportHealth(string deployment, DeploymentState state, string? reason, TimeProvider time)
    {
        var found = Get(deployment);
        if (found.State == DeploymentState.Deleting && state != DeploymentState.Deleting)
        {
            return false;
        }

        var from = found.State;
        var now = time.UtcNow();
        if (!found.Set(state, reason, now))
        {
            return false;
        }

        Raise(new DeploymentHealthChanged(Name, deployment, from, state, reason, now));
        return true;
    }

    /// <summary>Replaces one key (its hash); callers holding the other key are unaffected.</summary>
    public void RotateKey(EndpointKey which, string hash, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (which == EndpointKey.Primary)
        {
            PrimaryKeyHash = hash;
        }
        else
        {
            SecondaryKeyHash = hash;
        }

        var now = time.UtcNow();
        KeysChangedAt = now;
        Touch();
        Raise(new EndpointChanged(Name, $"{which.ToString().ToLowerInvariant()} key regenerated", actor.Name, now));
    }

    /// <summary>Which key a presented hash is, or null.</summary>
    public EndpointKey? KeyOf(string hash) =>
        string.Equals(hash, PrimaryKeyHash, StringComparison.Ordinal) ? EndpointKey.Primary
        : string.Equals(hash, SecondaryKeyHash, StringComparison.Ordinal) ? EndpointKey.Secondary
        : null;

    private void Check(TrafficAssignment next)
    {
        var errors = next.Problems([.. _deployments.Select(d => d.Name)]);
        foreach (var (name, percent) in next.Traffic)
        {
            if (percent > 0 && Find(name) is { MayTakeTraffic: false } refused)
            {
                errors.Add($"traffic.{name}", $"traffic.{name}: deployment {name} is {refused.State} and cannot take traffic{(refused.StateReason is null ? "" : $" ({refused.StateReason})")}.");
            }
        }

        if (next.MirrorDeployment is { } mirror && Find(mirror) is { MayTakeTraffic: false } gone)
        {
            errors.Add("mirror.deployment", $"mirror.deployment: deployment {mirror} is {gone.State} and cannot take traffic.");
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }
    }

    private void Move(TrafficAssignment next, string actor, TrafficChangeKind kind, string? reason, DateTime now)
    {
        if (next == Assignment)
        {
            return;
        }

        var change = new TrafficChange(now, actor, Assignment, next, kind, reason, Settled: kind != TrafficChangeKind.Rollout);
        Assignment = next;
        History = [.. History.TakeLast(MaxHistory - 1), change];
        Touch();
        Raise(new TrafficChanged(Name, change, now));
    }

    private void Touch() => ConcurrencyStamp = Guid.NewGuid();
}
