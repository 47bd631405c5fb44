using System.Globalization;
using System.Text.Json.Serialization;
using Portal.Domain.Common;

namespace Portal.Domain.Deployments;

/// <summary>What a health gate watches on the canary during each bake.</summary>
public enum GateMetric
{
    /// <summary>Share of the canary's requests answered with an error (5xx, 424, 408), 0–1.</summary>
    ErrorRate,

    /// <summary>95th percentile of the canary's latency through the gateway, in milliseconds.</summary>
    P95LatencyMs,

    /// <summary>The largest per-feature drift score of the canary's inputs against its training data.</summary>
    Drift,
}

public enum GateMode
{
    /// <summary>Breached when the canary's value is above the threshold.</summary>
    Absolute,

    /// <summary>Breached when the canary's value is above the primary's times the threshold (a factor, e.g. 1.5).</summary>
    RelativeToPrimary,
}

/// <summary>
/// One guardrail of a canary (SageMaker's deployment guardrails are the model): a metric, a threshold, and
/// whether the threshold is absolute or a factor of what the deployments already serving show.
/// </summary>
public sealed record HealthGate(GateMetric Metric, double Threshold, GateMode Mode = GateMode.Absolute)
{
    /// <summary>A relative error-rate gate ignores rates this small, so a primary with no errors does not make one error a breach.</summary>
    public const double ErrorRateFloor = 0.01;

    public string? Problem(string field)
    {
        if (!double.IsFinite(Threshold))
        {
            return $"{field}.threshold: give a number.";
        }

        if (Mode == GateMode.RelativeToPrimary)
        {
            return Threshold is < 1 or > 100 ? $"{field}.threshold: a relative gate takes a factor of the primary's value from 1 to 100 (e.g. 1.5); got {Threshold.ToString(CultureInfo.InvariantCulture)}." : null;
        }

        return Metric switch
        {
            GateMetric.ErrorRate when Threshold is < 0 or > 1 => $"{field}.threshold: an error rate is a share from 0 to 1 (0.05 for 5 %); got {Threshold.ToString(CultureInfo.InvariantCulture)}.",
            GateMetric.P95LatencyMs when Threshold is <= 0 or > 600_000 => $"{field}.threshold: a latency is more than 0 and at most 600,000 ms; got {Threshold.ToString(CultureInfo.InvariantCulture)}.",
            GateMetric.Drift when Threshold is <= 0 or > 10 => $"{field}.threshold: a drift score is more than 0 and at most 10 (0.1 is the usual threshold); got {Threshold.ToString(CultureInfo.InvariantCulture)}.",
            _ => null,
        };
    }

    /// <summary>Whether the canary's value breaks the gate; null values (nothing measured yet) never do.</summary>
    public bool IsBreachedBy(double? canary, double? primary)
    {
        if (canary is not { } value)
        {
            return false;
        }

        if (Mode == GateMode.Absolute)
        {
            return value > Threshold;
        }

        var floor = Metric == GateMetric.ErrorRate ? ErrorRateFloor : 0;
        return primary is { } p && value > Math.Max(p * Threshold, floor);
    }

    /// <summary>"error rate above 5 %", "p95 latency above 1.5× the primary's".</summary>
    public string Describe()
    {
        var what = Metric switch
        {
            GateMetric.ErrorRate => "error rate",
            GateMetric.P95LatencyMs => "p95 latency",
            _ => "drift",
        };
        return Mode == GateMode.RelativeToPrimary
            ? $"{what} above {Threshold.ToString("0.##", CultureInfo.InvariantCulture)}× the primary's"
            : $"{what} above {Format(Metric, Threshold)}";
    }

    public static string Format(GateMetric metric, double value) => metric switch
    {
        GateMetric.ErrorRate => value.ToString("0.#%", CultureInfo.InvariantCulture),
        GateMetric.P95LatencyMs => $"{value.ToString("0.#", CultureInfo.InvariantCulture)} ms",
        _ => value.ToString("0.###", CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// A gated canary: the canary deployment gets <see cref="Steps"/> percent of live traffic in turn (e.g. 10,
/// 50, 100), each for <see cref="BakeSeconds"/> while the gates are watched; the other deployments share
/// the rest in their previous proportions.
/// </summary>
public sealed record RolloutPlan(string Canary, IReadOnlyList<int> Steps, int BakeSeconds, IReadOnlyList<HealthGate> Gates, int MinRequestsPerStep = 20, int WaitForHealthySeconds = 600)
{
    public const int MaxSteps = 10;
    public const int MaxGates = 10;

    public FieldErrors Problems()
    {
        var errors = new FieldErrors();
        if (Steps is null || Steps.Count == 0 || Steps.Count > MaxSteps)
        {
            errors.Add("steps", $"steps: give 1 to {MaxSteps} traffic steps for the canary, ending at 100 (e.g. 10, 50, 100).");
        }
        else
        {
            if (Steps.Any(s => s is < 1 or > 100))
            {
                errors.Add("steps", "steps: each step is a share of traffic from 1 to 100 %.");
            }

            if (Steps.Zip(Steps.Skip(1)).Any(p => p.Second <= p.First))
            {
                errors.Add("steps", "steps: each step gives the canary more traffic than the one before.");
            }

            if (Steps[^1] != 100)
            {
                errors.Add("steps", $"steps: the last step is 100 %, so the canary takes over once it passed (got {Steps[^1].ToString(CultureInfo.InvariantCulture)} %).");
            }
        }

        if (BakeSeconds is < 5 or > 86_400)
        {
            errors.Add("bakeSeconds", $"bakeSeconds: each step bakes 5 s to 24 h; got {BakeSeconds.ToString(CultureInfo.InvariantCulture)} s.");
        }

        if (Gates is null || Gates.Count == 0 || Gates.Count > MaxGates)
        {
            errors.Add("gates", $"gates: give 1 to {MaxGates} health gates (error rate, p95 latency or drift) to watch during each bake.");
        }
        else
        {
            for (var i = 0; i < Gates.Count; i++)
            {
                if (Gates[i]?.Problem($"gates[{i}]") is { } problem)
                {
                    errors.Add($"gates[{i}]", problem);
                }
            }
        }

        if (MinRequestsPerStep is < 1 or > 1_000_000)
        {
            errors.Add("minRequestsPerStep", "minRequestsPerStep: the canary needs 1 to 1,000,000 requests in a step before it is judged.");
        }

        if (WaitForHealthySeconds is < 10 or > 86_400)
        {
            errors.Add("waitForHealthySeconds", "waitForHealthySeconds: wait 10 s to 24 h for the canary to become healthy.");
        }

        return errors;
    }

    public string Describe() =>
        $"{Canary}: {string.Join(" → ", Steps.Select(s => $"{s.ToString(CultureInfo.InvariantCulture)} %"))}, {BakeSeconds.ToString(CultureInfo.InvariantCulture)} s per step, gates: {string.Join("; ", Gates.Select(g => g.Describe()))}";
}

public enum RolloutState
{
    /// <summary>The canary's instances are starting; it gets no traffic until it is healthy.</summary>
    WaitingForHealthy,

    /// <summary>The canary has a step's share of traffic and is being watched.</summary>
    Baking,

    /// <summary>Every step passed; the canary takes all traffic.</summary>
    Completed,

    /// <summary>A gate was breached (or the canary failed): traffic went back to the assignment before the rollout.</summary>
    RolledBack,

    /// <summary>Someone stopped it or edited traffic by hand; traffic went back, or stays as they set it.</summary>
    Canceled,
}

/// <summary>One line of a rollout's timeline.</summary>
public sealed record RolloutEvent(DateTime At, string Message, int? CanaryPercent = null, bool IsProblem = false);

/// <summary>One gate's reading over the current step, for the canary and the deployments that were serving before.</summary>
public sealed record GateReading(HealthGate Gate, double? Canary, double? Primary);

/// <summary>What the backend sees of the canary right now (over the current step).</summary>
public sealed record RolloutObservation(int CanaryRequests, IReadOnlyList<GateReading> Readings);

/// <summary>A canary rollout of an endpoint, from start to its end; kept on the endpoint as history.</summary>
public sealed class Rollout
{
    public Guid Id { get; init; }

    public RolloutPlan Plan { get; init; } = default!;

    /// <summary>The traffic assignment before the rollout, which a breach returns to.</summary>
    public TrafficAssignment Baseline { get; init; } = TrafficAssignment.None;

    public string StartedBy { get; init; } = "";

    public DateTime StartedAt { get; init; }

    [JsonInclude]
    public RolloutState State { get; internal set; }

    /// <summary>Index into the plan's steps of the step now baking (or last baked).</summary>
    [JsonInclude]
    public int StepIndex { get; internal set; } = -1;

    [JsonInclude]
    public DateTime? StepStartedAt { get; internal set; }

    [JsonInclude]
    public DateTime? EndedAt { get; internal set; }

    /// <summary>Why it ended (the breached gate and its reading, who stopped it).</summary>
    [JsonInclude]
    public string? Reason { get; internal set; }

    [JsonInclude]
    public IReadOnlyList<RolloutEvent> Timeline { get; internal set; } = [];

    internal void Note(DateTime at, string message, int? percent = null, bool problem = false) => Timeline = [.. Timeline, new RolloutEvent(at, message, percent, problem)];

    public bool IsActive => State is RolloutState.WaitingForHealthy or RolloutState.Baking;

    public int? CurrentPercent => State == RolloutState.Baking && StepIndex >= 0 ? Plan.Steps[StepIndex] : State == RolloutState.Completed ? 100 : null;
}
