using System.Globalization;
using Portal.Domain.Common;

namespace Portal.Domain.Deployments;

/// <summary>
/// How an endpoint splits live traffic, and what share it copies to a mirror (Azure ML's
/// <c>traffic</c> and <c>mirror_traffic</c>): whole percentages that add up to 100, or all 0 for an endpoint
/// taking no traffic; at most one mirror target with at most 50 %; a deployment takes live or mirror
/// traffic, not both. Deployments left out of <see cref="Traffic"/> take none.
/// </summary>
public sealed record TrafficAssignment
{
    public const int MaxMirrorPercent = 50;

    public TrafficAssignment(IReadOnlyDictionary<string, int>? traffic, string? mirrorDeployment = null, int mirrorPercent = 0)
    {
        // Zero entries carry no meaning, and dropping them makes two equal splits compare equal.
        Traffic = new SortedDictionary<string, int>((traffic ?? new Dictionary<string, int>()).Where(t => t.Value != 0).ToDictionary(), StringComparer.Ordinal);
        MirrorDeployment = mirrorPercent == 0 ? null : mirrorDeployment;
        MirrorPercent = MirrorDeployment is null ? 0 : mirrorPercent;
    }

    public static TrafficAssignment None { get; } = new(traffic: null);

    public IReadOnlyDictionary<string, int> Traffic { get; }

    public string? MirrorDeployment { get; }

    public int MirrorPercent { get; }

    public bool TakesTraffic => Traffic.Values.Sum() > 0;

    public int PercentOf(string deployment) => Traffic.GetValueOrDefault(deployment);

    /// <summary>
    /// Every rule the assignment breaks, naming the field: unknown deployments, percentages outside 0–100,
    /// a sum other than 100 (or 0), a mirror over 50 % or onto a deployment that takes live traffic.
    /// </summary>
    public FieldErrors Problems(IReadOnlyCollection<string> deployments)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        var errors = new FieldErrors();
        foreach (var (name, percent) in Traffic)
        {
            if (!deployments.Contains(name))
            {
                errors.Add($"traffic.{name}", $"traffic.{Names.Visible(name)}: the endpoint has no deployment '{Names.Visible(name)}'{Known(deployments)}.");
            }

            if (percent < 0)
            {
                errors.Add($"traffic.{name}", $"traffic.{Names.Visible(name)}: {percent.ToString(CultureInfo.InvariantCulture)} % is negative; a share is 0 to 100 %.");
            }
            else if (percent > 100)
            {
                errors.Add($"traffic.{name}", $"traffic.{Names.Visible(name)}: {percent.ToString(CultureInfo.InvariantCulture)} % is more than all of it; a share is 0 to 100 %.");
            }
        }

        var sum = Traffic.Values.Sum();
        if (sum != 100 && sum != 0)
        {
            errors.Add("traffic", $"traffic: the shares add up to {sum.ToString(CultureInfo.InvariantCulture)} %; they must add up to 100 % (or all be 0 for an endpoint that takes no traffic).");
        }

        if (MirrorDeployment is { } mirror)
        {
            if (!deployments.Contains(mirror))
            {
                errors.Add("mirror.deployment", $"mirror.deployment: the endpoint has no deployment '{Names.Visible(mirror)}'{Known(deployments)}.");
            }
            else if (PercentOf(mirror) > 0)
            {
                errors.Add("mirror.deployment", $"mirror.deployment: '{mirror}' takes {PercentOf(mirror)} % of live traffic; a deployment takes live or mirror traffic, not both.");
            }

            if (MirrorPercent < 0 || MirrorPercent > MaxMirrorPercent)
            {
                errors.Add("mirror.percent", $"mirror.percent: {MirrorPercent.ToString(CultureInfo.InvariantCulture)} %; at most {MaxMirrorPercent} % of traffic can be mirrored, and not a negative share.");
            }

            if (!TakesTraffic)
            {
                errors.Add("mirror.deployment", "mirror.deployment: the endpoint takes no live traffic, so there is nothing to mirror.");
            }
        }

        return errors;
    }

    /// <summary>This split with <paramref name="canary"/> at <paramref name="percent"/> and the others scaled to share the rest.</summary>
    public TrafficAssignment WithCanary(string canary, int percent)
    {
        var others = Traffic.Where(t => t.Key != canary).ToList();
        var total = others.Sum(t => t.Value);
        var rest = 100 - percent;
        var shares = new Dictionary<string, int>(StringComparer.Ordinal);
        if (total > 0 && rest > 0)
        {
            // Largest remainder: the scaled shares are whole numbers that still add up to the rest.
            var exact = others.Select(t => (t.Key, Value: (double)t.Value * rest / total)).ToList();
            foreach (var (key, value) in exact)
            {
                shares[key] = (int)Math.Floor(value);
            }

            var left = rest - shares.Values.Sum();
            foreach (var (key, _) in exact.OrderByDescending(e => e.Value - Math.Floor(e.Value)).ThenBy(e => e.Key, StringComparer.Ordinal).Take(left))
            {
                shares[key]++;
            }
        }

        shares[canary] = total > 0 ? percent : 100;
        return new TrafficAssignment(shares, MirrorDeployment == canary ? null : MirrorDeployment, MirrorDeployment == canary ? 0 : MirrorPercent);
    }

    /// <summary>"blue 90 %, green 10 %; mirror 20 % to shadow" — how audit entries and pages say it.</summary>
    public string Describe()
    {
        var split = Traffic.Count == 0 ? "no traffic" : string.Join(", ", Traffic.Select(t => $"{t.Key} {t.Value.ToString(CultureInfo.InvariantCulture)} %"));
        return MirrorDeployment is null ? split : $"{split}; mirror {MirrorPercent.ToString(CultureInfo.InvariantCulture)} % to {MirrorDeployment}";
    }

    public bool Equals(TrafficAssignment? other) =>
        other is not null && MirrorDeployment == other.MirrorDeployment && MirrorPercent == other.MirrorPercent
        && Traffic.Count == other.Traffic.Count && Traffic.All(t => other.Traffic.TryGetValue(t.Key, out var v) && v == t.Value);

    public override int GetHashCode() => Describe().GetHashCode(StringComparison.Ordinal);

    private static string Known(IReadOnlyCollection<string> deployments) =>
        deployments.Count == 0 ? " (it has none yet)" : $" (it has {string.Join(", ", deployments.Order(StringComparer.Ordinal))})";
}
