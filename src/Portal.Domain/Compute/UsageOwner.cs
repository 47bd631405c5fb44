namespace Portal.Domain.Compute;

public enum UsageKind
{
    Run,
    Deployment,
}

/// <summary>
/// Who a GPU-second or compute-second is charged to, as one string that sorts and groups well in SQL:
/// <c>run:&lt;run id&gt;</c> or <c>deployment:&lt;endpoint&gt;:&lt;deployment&gt;</c>. Empty: nobody (an unallocated GPU).
/// </summary>
public readonly record struct UsageOwner(UsageKind Kind, string Id, string? Deployment = null)
{
    public static UsageOwner Run(string runId) => new(UsageKind.Run, runId);

    public static UsageOwner ForDeployment(string endpoint, string deployment) => new(UsageKind.Deployment, endpoint, deployment);

    public string Key => Kind == UsageKind.Run ? $"run:{Id}" : $"deployment:{Id}:{Deployment}";

    /// <summary>The endpoint, for a deployment.</summary>
    public string? Endpoint => Kind == UsageKind.Deployment ? Id : null;

    public static UsageOwner? Parse(string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return null;
        }

        var parts = key.Split(':');
        return parts switch
        {
            ["run", var id] when id.Length > 0 => Run(id),
            ["deployment", var endpoint, var deployment] when endpoint.Length > 0 && deployment.Length > 0 => ForDeployment(endpoint, deployment),
            _ => null,
        };
    }

    public override string ToString() => Key;
}
