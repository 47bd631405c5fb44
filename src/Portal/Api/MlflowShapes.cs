using System.Globalization;
using Portal.Domain.Experiments;
using Portal.Domain.Models;
using Portal.Infrastructure.Models;

namespace Portal.Api;

/// <summary>MLflow's JSON shapes (times in milliseconds since the epoch, ids as strings).</summary>
internal static class MlflowShapes
{
    public static object Experiment(Experiment e) => new
    {
        experiment_id = e.Id.ToString(CultureInfo.InvariantCulture),
        name = e.Name,
        artifact_location = $"mlflow-artifacts:/{e.Id.ToString(CultureInfo.InvariantCulture)}",
        lifecycle_stage = e.Deleted ? "deleted" : "active",
        last_update_time = Millis(e.UpdatedAt),
        creation_time = Millis(e.CreatedAt),
        tags = e.Tags.Select(t => new { key = t.Key, value = t.Value }),
    };

    public static object RunInfo(Run r) => new
    {
        run_id = r.Id,
        run_uuid = r.Id,
        run_name = r.Name,
        experiment_id = r.ExperimentId.ToString(CultureInfo.InvariantCulture),
        user_id = r.UserId,
        status = r.Status.Wire(),
        start_time = Millis(r.StartTime),
        end_time = r.EndTime is { } end ? Millis(end) : (long?)null,
        artifact_uri = $"mlflow-artifacts:/{r.ExperimentId.ToString(CultureInfo.InvariantCulture)}/{r.Id}/artifacts",
        lifecycle_stage = "active",
    };

    public static object Run(Run r) => new
    {
        info = RunInfo(r),
        data = new
        {
            metrics = r.Metrics.Select(m => new { key = m.Key, value = m.Value.Value, timestamp = m.Value.Timestamp, step = m.Value.Step }),
            @params = r.Params.Select(p => new { key = p.Key, value = p.Value }),
            tags = r.Tags.Select(t => new { key = t.Key, value = t.Value }),
        },
        inputs = new
        {
            dataset_inputs = r.Inputs.Select(i => new
            {
                tags = new[] { new { key = "mlflow.data.context", value = "training" } },
                dataset = new { name = i, digest = "", source_type = "portal", source = i },
            }),
        },
    };

    public static object RegisteredModel(MlflowModelView view) => new
    {
        name = view.Model.Name,
        creation_timestamp = Millis(view.Model.CreatedAt),
        last_updated_timestamp = Millis(view.LastUpdated),
        user_id = view.Model.CreatedBy,
        description = view.Model.Description ?? "",
        latest_versions = view.LatestVersions.Select(ModelVersion),
        tags = view.Model.Tags.Select(t => new { key = t.Key, value = t.Value }),
        aliases = view.Model.Aliases.OrderBy(a => a.Key, StringComparer.Ordinal).Select(a => new { alias = a.Key, version = a.Value.ToString(CultureInfo.InvariantCulture) }),
    };

    /// <summary>
    /// A version in MLflow's words. Its status follows the portal lifecycle: PENDING_REGISTRATION while the
    /// automatic checks run, FAILED_REGISTRATION when a required check failed (the reason as status_message),
    /// READY from then on; status_message says where it stands in review.
    /// </summary>
    public static object ModelVersion(MlflowVersionView view)
    {
        var v = view.Version;
        return new
        {
            name = v.ModelName,
            version = v.Version.ToString(CultureInfo.InvariantCulture),
            creation_timestamp = Millis(v.CreatedAt),
            last_updated_timestamp = Millis(v.StateChangedAt),
            user_id = v.Author,
            current_stage = v.Stage,
            description = v.Description ?? "",
            source = view.Source,
            run_id = v.SourceRunId,
            status = v.State switch
            {
                ModelState.Registered => "PENDING_REGISTRATION",
                ModelState.Failed => "FAILED_REGISTRATION",
                _ => "READY",
            },
            status_message = v.State switch
            {
                ModelState.Registered => "The portal's automatic checks are running.",
                ModelState.Failed => v.StateReason ?? "A required check failed.",
                ModelState.Validated => $"Checks passed; request approval at /models/{v.ModelName}/versions/{v.Version} before protected aliases or stages.",
                _ => $"The version is {Portal.Domain.Models.ModelVersion.Describe(v.State)}.",
            },
            tags = v.Tags.Select(t => new { key = MlflowRegistry.TagKey(t), value = MlflowRegistry.TagValue(t) }),
            run_link = "",
            aliases = view.Aliases,
        };
    }

    public static object Metric(MetricPoint p) => new { key = p.Key, value = p.Value, timestamp = p.Timestamp, step = p.Step };

    public static long Millis(DateTime at) => (long)(at - DateTime.UnixEpoch).TotalMilliseconds;
}
