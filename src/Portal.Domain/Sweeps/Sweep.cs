using System.Globalization;
using Portal.Domain.Common;

namespace Portal.Domain.Sweeps;

public enum SweepStrategy
{
    Grid,
    Random,
}

public enum ObjectiveDirection
{
    Maximize,
    Minimize,
}

public enum SweepStatus
{
    Running,
    Completed,
    Canceled,
}

/// <summary>
/// One param of a search space: a list of choices (grid or random), or for random search a numeric range,
/// optionally integer and/or log-uniform.
/// </summary>
public sealed record ParamSpace(string Name, IReadOnlyList<string>? Values = null, double? Min = null, double? Max = null, bool Integer = false, bool Log = false)
{
    public string? Problem(SweepStrategy strategy)
    {
        if (Values is { Count: > 0 })
        {
            return Values.Any(string.IsNullOrWhiteSpace) ? $"space.{Name}: choices cannot be empty." : null;
        }

        if (strategy == SweepStrategy.Grid)
        {
            return $"space.{Name}: a grid search needs a list of values for every param.";
        }

        if (Min is not { } min || Max is not { } max || !double.IsFinite(min) || !double.IsFinite(max))
        {
            return $"space.{Name}: give either values or a finite min and max.";
        }

        if (min >= max)
        {
            return $"space.{Name}: min ({min.ToString(CultureInfo.InvariantCulture)}) must be less than max ({max.ToString(CultureInfo.InvariantCulture)}).";
        }

        return Log && min <= 0 ? $"space.{Name}: a log range needs min > 0." : null;
    }
}

/// <summary>
/// Hyperparameter search: a parent run whose child runs are trials with params drawn from a space. The
/// trial list is fixed at creation (grid: the cartesian product; random: seeded draws), so a sweep can be
/// resumed after a restart and shows how many trials remain.
/// </summary>
public sealed class Sweep : Entity
{
    public const int MaxTrialsLimit = 1000;

    private Sweep()
    {
    }

    public string Id { get; private set; } = "";

    public string Name { get; private set; } = "";

    public long ExperimentId { get; private set; }

    /// <summary>The parent run the trials' runs point to with <c>mlflow.parentRunId</c>.</summary>
    public string ParentRunId { get; private set; } = "";

    public string Command { get; private set; } = "";

    public string? CodePath { get; private set; }

    public IReadOnlyDictionary<string, string> Inputs { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public SweepStrategy Strategy { get; private set; }

    public IReadOnlyList<ParamSpace> Space { get; private set; } = [];

    public string Objective { get; private set; } = "";

    public ObjectiveDirection Direction { get; private set; }

    public int MaxConcurrent { get; private set; }

    /// <summary>The param sets of every trial, in launch order.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Trials { get; private set; } = [];

    /// <summary>How many trials have been launched so far.</summary>
    public int Launched { get; private set; }

    public SweepStatus Status { get; private set; }

    public string CreatedBy { get; private set; } = "";

    public DateTime CreatedAt { get; private set; }

    public DateTime? EndedAt { get; private set; }

    public static Sweep Create(string name, long experimentId, string parentRunId, string command, string? codePath,
        IReadOnlyDictionary<string, string> inputs, SweepStrategy strategy, IReadOnlyList<ParamSpace> space,
        string objective, ObjectiveDirection direction, int maxTrials, int maxConcurrent, int seed, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(inputs);
        var errors = new List<string>();
        if (Names.FreeTextProblem(name, "name", Experiments.TrackingRules.MaxRunNameLength) is { } nameProblem)
        {
            errors.Add(nameProblem);
        }

        errors.AddRange(space.Select(p => Experiments.TrackingRules.KeyProblem(p.Name, "param") is { } keyProblem ? $"space: {keyProblem}" : null).OfType<string>());
        if (space.Count == 0)
        {
            errors.Add("space: add at least one param to search over.");
        }

        if (space.GroupBy(p => p.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            errors.Add($"space.{twice.Key}: the param appears twice.");
        }

        errors.AddRange(space.Select(p => p.Problem(strategy)).OfType<string>());
        if (string.IsNullOrWhiteSpace(objective))
        {
            errors.Add("objective: name the metric to optimise, e.g. 'val_auc'.");
        }

        if (maxTrials is < 1 or > MaxTrialsLimit)
        {
            errors.Add($"maxTrials: between 1 and {MaxTrialsLimit}.");
        }

        if (maxConcurrent is < 1 or > 64)
        {
            errors.Add("maxConcurrent: between 1 and 64.");
        }

        if (errors.Count > 0)
        {
            throw new DomainException(string.Join(" ", errors));
        }

        var trials = strategy == SweepStrategy.Grid ? Grid(space, maxTrials) : Random(space, maxTrials, seed);
        return new Sweep
        {
            Id = $"sweep-{Guid.NewGuid():N}"[..18],
            Name = string.IsNullOrWhiteSpace(name) ? $"sweep of {objective}" : name.Trim(),
            ExperimentId = experimentId,
            ParentRunId = parentRunId,
            Command = command,
            CodePath = codePath,
            Inputs = new Dictionary<string, string>(inputs, StringComparer.Ordinal),
            Strategy = strategy,
            Space = [.. space],
            Objective = objective.Trim(),
            Direction = direction,
            MaxConcurrent = maxConcurrent,
            Trials = trials,
            Status = SweepStatus.Running,
            CreatedBy = actor.Name,
            CreatedAt = time.UtcNow(),
        };
    }

    /// <summary>The next trial's params to launch, or null when all were launched or the sweep stopped.</summary>
    public IReadOnlyDictionary<string, string>? TakeNextTrial()
    {
        if (Status != SweepStatus.Running || Launched >= Trials.Count)
        {
            return null;
        }

        return Trials[Launched++];
    }

    public void Complete(TimeProvider time)
    {
        if (Status == SweepStatus.Running)
        {
            Status = SweepStatus.Completed;
            EndedAt = time.UtcNow();
        }
    }

    /// <summary>Why <paramref name="actor"/> may not cancel this sweep, or null: it is its creator's and any administrator's.</summary>
    public string? CancelRefusal(Actor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return actor.IsIn(Identity.Roles.Admin) || actor == Actor.System || (actor.Name == CreatedBy && actor.IsIn(Identity.Roles.DataScientist))
            ? null
            : $"Sweep {Id} was started by {CreatedBy}; only they or an administrator can cancel it.";
    }

    /// <summary>Stops launching trials; the caller cancels the ones still running.</summary>
    public bool Cancel(Actor actor, TimeProvider time)
    {
        if (CancelRefusal(actor) is { } refusal)
        {
            throw new NotPermittedException(refusal);
        }

        if (Status != SweepStatus.Running)
        {
            return false;
        }

        Status = SweepStatus.Canceled;
        EndedAt = time.UtcNow();
        return true;
    }

    /// <summary>Whether <paramref name="value"/> beats <paramref name="best"/> in this sweep's direction.</summary>
    public bool IsBetter(double value, double? best) =>
        !double.IsNaN(value) && (best is not { } b || (Direction == ObjectiveDirection.Maximize ? value > b : value < b));

    private static List<Dictionary<string, string>> Grid(IReadOnlyList<ParamSpace> space, int maxTrials)
    {
        var trials = new List<Dictionary<string, string>> { new(StringComparer.Ordinal) };
        foreach (var param in space)
        {
            trials = [.. trials.SelectMany(t => param.Values!.Select(v => new Dictionary<string, string>(t, StringComparer.Ordinal) { [param.Name] = v }))];
            if (trials.Count > MaxTrialsLimit * 10)
            {
                throw new DomainException($"space: the grid has more than {MaxTrialsLimit * 10} combinations; use random search or fewer values.");
            }
        }

        return [.. trials.Take(maxTrials)];
    }

    private static List<Dictionary<string, string>> Random(IReadOnlyList<ParamSpace> space, int maxTrials, int seed)
    {
        var random = new Random(seed);
        var trials = new List<Dictionary<string, string>>(maxTrials);
        for (var i = 0; i < maxTrials; i++)
        {
            var trial = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in space)
            {
                trial[p.Name] = p.Values is { Count: > 0 } values ? values[random.Next(values.Count)] : Draw(p, random);
            }

            trials.Add(trial);
        }

        return trials;
    }

    private static string Draw(ParamSpace p, Random random)
    {
        double min = p.Min!.Value, max = p.Max!.Value;
        var u = random.NextDouble();
        var x = p.Log ? Math.Exp(Math.Log(min) + (u * (Math.Log(max) - Math.Log(min)))) : min + (u * (max - min));
        return p.Integer
            ? Math.Clamp(Math.Round(x), Math.Ceiling(min), Math.Floor(max)).ToString(CultureInfo.InvariantCulture)
            : x.ToString("G6", CultureInfo.InvariantCulture);
    }
}
