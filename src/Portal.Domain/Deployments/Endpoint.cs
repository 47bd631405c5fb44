using System.Globalization;
using Portal.Domain.Common;
using Portal.Domain.Models;

namespace Portal.Domain.Deployments;

/// <summary>How a traffic change came about.</summary>
public enum TrafficChangeKind
{
    /// <summary>Someone set the split (traffic editor, API).</summary>
    Manual,

    /// <summary>A canary rollout moved to its next step, or completed.</summary>
    Rollout,

    /// <summary>A gate was breached, or the canary failed: traffic went back without anyone asking.</summary>
    AutomaticRollback,

    /// <summary>Someone pressed Roll back, or stopped a rollout.</summary>
    Rollback,
}

/// <summary>One change of an endpoint's traffic, with the split before and after; the audit trail has the same.</summary>
/// <param name="Settled">
/// The split stood as meant: set by hand, by a rollback, or the last step of a canary that completed. A canary's
/// intermediate steps are not, so rolling back never lands on one.
/// </param>
public sealed record TrafficChange(DateTime At, string Actor, TrafficAssignment Before, TrafficAssignment After, TrafficChangeKind Kind, string? Reason, bool Settled = true);

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
public sealed class Endpoint : Entity
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

    public IReadOnlyList<Deployment> Deployments => _deployments;

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

    /// <summary>Starts a gated canary of <see cref="RolloutPlan.Canary"/>; it gets traffic once it is healthy.</summary>
    public Rollout StartRollout(RolloutPlan plan, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(actor);
        var errors = plan.Problems();
        var canary = Find(plan.Canary ?? "");
        if (canary is null)
        {
            errors.Add("canary", $"canary: endpoint {Name} has no deployment '{Names.Visible(plan.Canary)}'; add it first.");
        }
        else if (!canary.MayTakeTraffic)
        {
            errors.Add("canary", $"canary: deployment {canary.Name} is {canary.State} and cannot take traffic.");
        }
        else if (Assignment.PercentOf(canary.Name) > 0)
        {
            errors.Add("canary", $"canary: deployment {canary.Name} already takes {Assignment.PercentOf(canary.Name)} % of traffic; a canary starts from none.");
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        if (ActiveRollout is not null)
        {
            throw new DomainException($"Endpoint {Name} already has a rollout in progress ({ActiveRollout.Plan.Canary}); wait for it or stop it.");
        }

        if (!Assignment.TakesTraffic)
        {
            throw new DomainException($"Endpoint {Name} takes no traffic yet, so there is nothing to compare a canary with; give {plan.Canary} 100 % directly.");
        }

        var now = time.UtcNow();
        var rollout = new Rollout
        {
            Id = Guid.NewGuid(),
            Plan = plan,
            Baseline = Assignment,
            StartedBy = actor.Name,
            StartedAt = now,
            State = RolloutState.WaitingForHealthy,
        };
        rollout.Note(now, $"{actor.Name} started a canary of {plan.Describe()}. Traffic before: {Assignment.Describe()}.");
        ActiveRollout = rollout;
        Touch();
        Raise(new RolloutProgressed(Name, rollout.Id, rollout.State, null, rollout.Timeline[^1].Message, false, now));
        if (canary!.IsServing)
        {
            NextStep(rollout, now);
        }
        else
        {
            rollout.Note(now, $"Waiting for {canary.Name} to become healthy (it is {canary.State}).");
        }

        return rollout;
    }

    /// <summary>Stops a rollout by hand; traffic returns to what it was before it.</summary>
    public void StopRollout(Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var rollout = ActiveRollout ?? throw new DomainException($"Endpoint {Name} has no rollout in progress.");
        var now = time.UtcNow();
        End(RolloutState.Canceled, $"{actor.Name} stopped the rollout; traffic went back to {rollout.Baseline.Describe()}.", now, problem: false);
        Move(rollout.Baseline, actor.Name, TrafficChangeKind.Rollback, "rollout stopped by hand", now);
    }

    /// <summary>
    /// Judges the rollout in progress on what the backend sees now: moves to the next step when a bake passed,
    /// rolls back at once when the canary failed or breached a gate. Returns the timeline entry it added, if any.
    /// </summary>
    public RolloutEvent? ObserveRollout(RolloutObservation observation, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(observation);
        if (ActiveRollout is not { } rollout)
        {
            return null;
        }

        var now = time.UtcNow();
        var canary = Find(rollout.Plan.Canary);
        if (canary is null || !canary.MayTakeTraffic)
        {
            return Breach(rollout, $"the canary {rollout.Plan.Canary} {(canary is null ? "is gone" : $"is {canary.State}: {canary.StateReason}")}", now);
        }

        if (rollout.State == RolloutState.WaitingForHealthy)
        {
            if (canary.IsServing)
            {
                NextStep(rollout, now);
                return rollout.Timeline[^1];
            }

            if (canary.State == DeploymentState.Unhealthy)
            {
                return Breach(rollout, $"the canary {canary.Name} is unhealthy: {canary.StateReason}", now);
            }

            return now - rollout.StartedAt > TimeSpan.FromSeconds(rollout.Plan.WaitForHealthySeconds)
                ? Breach(rollout, $"the canary {canary.Name} did not become healthy within {rollout.Plan.WaitForHealthySeconds} s ({canary.State}: {canary.StateReason})", now)
                : null;
        }

        if (!canary.IsServing)
        {
            return Breach(rollout, $"the canary {canary.Name} became {canary.State}: {canary.StateReason}", now);
        }

        if (observation.CanaryRequests >= rollout.Plan.MinRequestsPerStep)
        {
            foreach (var reading in observation.Readings)
            {
                if (reading.Gate.IsBreachedBy(reading.Canary, reading.Primary))
                {
                    var primary = reading.Primary is { } p ? $" (primary {HealthGate.Format(reading.Gate.Metric, p)})" : "";
                    return Breach(rollout, $"gate breached: {reading.Gate.Describe()} — the canary shows {HealthGate.Format(reading.Gate.Metric, reading.Canary!.Value)}{primary} over {observation.CanaryRequests} requests at {rollout.CurrentPercent} %", now);
                }
            }
        }

        var baked = now - rollout.StepStartedAt!.Value;
        var bake = TimeSpan.FromSeconds(rollout.Plan.BakeSeconds);
        if (baked < bake)
        {
            return null;
        }

        if (observation.CanaryRequests < rollout.Plan.MinRequestsPerStep)
        {
            // Not judged on too little evidence: the step bakes on, up to three bake times.
            return baked > 3 * bake
                ? Breach(rollout, $"only {observation.CanaryRequests} requests reached the canary at {rollout.CurrentPercent} % in {baked.TotalSeconds:0} s; it needs {rollout.Plan.MinRequestsPerStep} to be judged", now)
                : null;
        }

        if (rollout.StepIndex == rollout.Plan.Steps.Count - 1)
        {
            History = [.. History.SkipLast(1), History[^1] with { Settled = true }];
            End(RolloutState.Completed, $"Every step passed; {canary.Name} takes all traffic.", now, problem: false);
            return PastRollouts[^1].Timeline[^1];
        }

        NextStep(rollout, now);
        return rollout.Timeline[^1];
    }

    /// <summary>
    /// After a portal restart the live measurements of the step in progress are gone: the step bakes again
    /// from now, and the timeline says so.
    /// </summary>
    public RolloutEvent? ResumeAfterRestart(TimeProvider time)
    {
        if (ActiveRollout is not { } rollout)
        {
            return null;
        }

        var now = time.UtcNow();
        var message = rollout.State == RolloutState.Baking
            ? $"The portal restarted during the step at {rollout.CurrentPercent} %; the rollout resumes and that step bakes again from now."
            : "The portal restarted while the canary was starting; the rollout resumes and keeps waiting for it.";
        if (rollout.State == RolloutState.Baking)
        {
            rollout.StepStartedAt = now;
        }

        rollout.Note(now, message, rollout.CurrentPercent);
        Touch();
        Raise(new RolloutProgressed(Name, rollout.Id, rollout.State, rollout.CurrentPercent, message, false, now));
        return rollout.Timeline[^1];
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

    private void NextStep(Rollout rollout, DateTime now)
    {
        rollout.StepIndex++;
        rollout.State = RolloutState.Baking;
        rollout.StepStartedAt = now;
        var percent = rollout.Plan.Steps[rollout.StepIndex];
        var next = rollout.Baseline.WithCanary(rollout.Plan.Canary, percent);
        var message = $"Step {rollout.StepIndex + 1} of {rollout.Plan.Steps.Count}: {rollout.Plan.Canary} takes {percent} % ({next.Describe()}); baking {rollout.Plan.BakeSeconds} s.";
        rollout.Note(now, message, percent);
        Move(next, "rollout", TrafficChangeKind.Rollout, $"canary step {rollout.StepIndex + 1} of {rollout.Plan.Steps.Count}", now);
        Raise(new RolloutProgressed(Name, rollout.Id, rollout.State, percent, message, false, now));
    }

    private RolloutEvent Breach(Rollout rollout, string why, DateTime now)
    {
        var reason = $"Rolled back: {why}. Traffic went back to {rollout.Baseline.Describe()}.";
        End(RolloutState.RolledBack, reason, now, problem: true);
        Move(rollout.Baseline, "rollout", TrafficChangeKind.AutomaticRollback, why, now);
        return PastRollouts[^1].Timeline[^1];
    }

    private void End(RolloutState state, string reason, DateTime now, bool problem)
    {
        var rollout = ActiveRollout!;
        rollout.State = state;
        rollout.EndedAt = now;
        rollout.Reason = reason;
        rollout.Note(now, reason, rollout.CurrentPercent, problem);
        ActiveRollout = null;
        PastRollouts = [.. PastRollouts.TakeLast(MaxPastRollouts - 1), rollout];
        Touch();
        Raise(new RolloutProgressed(Name, rollout.Id, state, rollout.CurrentPercent, reason, problem, now));
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
