using Portal.Domain.Common;

namespace Portal.Domain.Experiments;

/// <summary>A named group of runs (MLflow's experiment). Ids are small integers, sent as strings.</summary>
public sealed class Experiment : Entity
{
    private Experiment()
    {
    }

    public long Id { get; private set; }

    public string Name { get; private set; } = "";

    public string CreatedBy { get; private set; } = "";

    public DateTime CreatedAt { get; private set; }

    public DateTime UpdatedAt { get; private set; }

    /// <summary>"active" or "deleted", as MLflow calls it.</summary>
    public bool Deleted { get; private set; }

    public IReadOnlyDictionary<string, string> Tags { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public static Experiment Create(string? name, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var trimmed = name?.Trim(' ');
        if (string.IsNullOrEmpty(trimmed))
        {
            throw TrackingException.Invalid("Missing value for required parameter 'name'.");
        }

        if (trimmed.Length > TrackingRules.MaxExperimentNameLength)
        {
            throw TrackingException.Invalid($"Experiment name exceeds the maximum length of {TrackingRules.MaxExperimentNameLength} characters.");
        }

        if (Names.FreeTextProblem(trimmed, "name", TrackingRules.MaxExperimentNameLength) is { } problem)
        {
            throw TrackingException.Invalid($"Invalid experiment name. {problem}");
        }

        var now = time.UtcNow();
        return new Experiment { Name = trimmed, CreatedBy = actor.Name, CreatedAt = now, UpdatedAt = now };
    }

    public void SetTag(string key, string? value, TimeProvider time)
    {
        Tags = Tags.With(CheckTag(key, value), value ?? "");
        UpdatedAt = time.UtcNow();
    }

    internal static string CheckTag(string? key, string? value)
    {
        if (TrackingRules.KeyProblem(key, "key") is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }

        if (value is { Length: > TrackingRules.MaxTagValueLength })
        {
            throw TrackingException.Invalid($"Tag value exceeds the maximum length of {TrackingRules.MaxTagValueLength} characters (got {value.Length}).");
        }

        return key!;
    }
}
