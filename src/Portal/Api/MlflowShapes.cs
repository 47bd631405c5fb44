using System.Globalization;
using Portal.Domain.Experiments;

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

    public static object Metric(MetricPoint p) => new { key = p.Key, value = p.Value, timestamp = p.Timestamp, step = p.Step };

    public static long Millis(DateTime at) => (long)(at - DateTime.UnixEpoch).TotalMilliseconds;
}
