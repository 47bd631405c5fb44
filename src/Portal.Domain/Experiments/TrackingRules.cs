namespace Portal.Domain.Experiments;

/// <summary>
/// The limits and key rules of MLflow's tracking REST API, so scripts written for MLflow get the same
/// answers here (mlflow/utils/validation.py).
/// </summary>
public static class TrackingRules
{
    public const int MaxKeyLength = 250;
    public const int MaxParamValueLength = 6000;
    public const int MaxTagValueLength = 8000;
    public const int MaxExperimentNameLength = 500;
    public const int MaxRunNameLength = 250;
    public const int MaxMetricsPerBatch = 1000;
    public const int MaxParamsOrTagsPerBatch = 100;
    public const int MaxEntitiesPerBatch = 1000;

    /// <summary>MLflow's request limit for one JSON call.</summary>
    public const int MaxRequestBytes = 1024 * 1024;

    public const string ParentRunTag = "mlflow.parentRunId";

    public const string FailureTag = "mlflow.portal.failure";

    /// <summary>
    /// Why <paramref name="key"/> cannot name a metric, param or tag, or null when it can: letters,
    /// digits, '_', '-', '.', ' ', ':' and '/', at most 250 characters, and a path that stays where it is
    /// (no "..", no leading '/', no "//").
    /// </summary>
    public static string? KeyProblem(string? key, string what)
    {
        if (string.IsNullOrEmpty(key))
        {
            return $"Missing value for required parameter '{what}'.";
        }

        if (key.Length > MaxKeyLength)
        {
            return $"'{what}' exceeds the maximum length of {MaxKeyLength} characters (got {key.Length}).";
        }

        foreach (var c in key)
        {
            if (!(char.IsLetterOrDigit(c) || c is '_' or '-' or '.' or ' ' or ':' or '/'))
            {
                return $"Invalid {what} name: '{Shorten(Common.Names.Visible(key))}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colons (:) and slashes (/).";
            }
        }

        if (Common.Names.LookAlikeProblem(key, what) is { } lookAlike)
        {
            return $"Invalid {what} name: {lookAlike}";
        }

        if (!IsNormalPath(key))
        {
            return $"Invalid {what} name: '{Shorten(key)}'. Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '{Normalize(key)}'.";
        }

        return null;
    }

    /// <summary>True when POSIX normalisation leaves the key unchanged and inside (what MLflow's path_not_unique checks).</summary>
    private static bool IsNormalPath(string key)
    {
        var normal = Normalize(key);
        return normal == key && normal != "." && !normal.StartsWith("..", StringComparison.Ordinal) && !normal.StartsWith('/');
    }

    /// <summary>posixpath.normpath: collapse "//", drop ".", resolve "x/..".</summary>
    internal static string Normalize(string path)
    {
        var absolute = path.StartsWith('/');
        var parts = new List<string>();
        foreach (var part in path.Split('/'))
        {
            if (part is "" or ".")
            {
                continue;
            }

            if (part == ".." && parts.Count > 0 && parts[^1] != "..")
            {
                parts.RemoveAt(parts.Count - 1);
            }
            else if (part != ".." || !absolute)
            {
                parts.Add(part);
            }
        }

        var joined = string.Join('/', parts);
        return absolute ? "/" + joined : joined.Length == 0 ? "." : joined;
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..60] + "…";
}
