using Microsoft.EntityFrameworkCore;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Experiments;

/// <summary>A new run built and checked before it is saved, and saved inside a caller's transaction (a job's run is one write with its job).</summary>
public sealed partial class TrackingStore
{
    /// <summary>A run of an active experiment, checked and named, not saved yet: callers may add params, tags and inputs first.</summary>
    internal async Task<Run> NewRunAsync(PortalDbContext db, string? experimentId, string? runName, DateTime? startTime,
        IReadOnlyDictionary<string, string>? tags, Actor actor, CancellationToken cancellationToken)
    {
        var id = ParseExperimentId(experimentId);
        var experiment = await db.Experiments.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, cancellationToken)
            ?? throw new TrackingException(TrackingError.ResourceDoesNotExist, $"No Experiment with id={experimentId} exists");
        if (experiment.Deleted)
        {
            throw new TrackingException(TrackingError.InvalidState, $"The experiment {experimentId} must be in the 'active' state. Current state is deleted.");
        }

        // MLflow clients send the run name as a tag too; either names the run.
        if (string.IsNullOrWhiteSpace(runName) && tags is not null && tags.TryGetValue("mlflow.runName", out var tagged))
        {
            runName = tagged;
        }

        var run = Run.Start(id, runName, actor, startTime, time);
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            run.SetTag(key, value);
        }

        run.SetTag("mlflow.runName", run.Name);
        run.SetTag("mlflow.user", actor.Name);
        return run;
    }

    /// <summary>Saves a new run and its search rows, inside the caller's transaction.</summary>
    internal static async Task AddRunAsync(PortalDbContext db, Run run, CancellationToken cancellationToken)
    {
        db.Runs.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        await TrackingSql.UpsertSearchValuesAsync(db, run, [.. run.Params.Keys], [.. run.Tags.Keys], [.. run.Metrics.Keys], cancellationToken);
    }
}
