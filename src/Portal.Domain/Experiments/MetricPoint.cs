namespace Portal.Domain.Experiments;

/// <summary>
/// One logged metric value. Append-only; identical points (run, key, step, timestamp, value) are the
/// same point, so a retried batch does not duplicate them. NaN and ±Infinity are kept as such.
/// </summary>
public sealed record MetricPoint(string Key, double Value, long Timestamp, long Step)
{
    public static MetricPoint Create(string? key, double? value, long? timestamp, long? step)
    {
        if (TrackingRules.KeyProblem(key, "key") is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }

        if (value is null)
        {
            throw TrackingException.Invalid($"Missing value for required parameter 'value' of metric '{key}'.");
        }

        if (timestamp is null)
        {
            throw TrackingException.Invalid($"Missing value for required parameter 'timestamp' of metric '{key}'.");
        }

        return new MetricPoint(key!, value.Value, timestamp.Value, step ?? 0);
    }
}
