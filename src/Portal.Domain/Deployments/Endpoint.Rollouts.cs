using Portal.Domain.Common;

namespace Portal.Domain.Deployments;

/// <summary>
/// An endpoint's canary rollouts: a new deployment takes traffic step by step while its health gates hold,
/// and traffic goes back to the baseline the moment one is breached.
/// </summary>
public sealed partial class Endpoint
{
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
}
