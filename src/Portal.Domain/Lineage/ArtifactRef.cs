using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Portal.Domain.Common;
using Portal.Domain.Datasets;

namespace Portal.Domain.Lineage;

public enum ArtifactKind
{
    Dataset,
    Run,
    Model,
    Deployment,

    /// <summary>Something outside the portal (a warehouse table, another scheduler's job), named by its namespace and name.</summary>
    External,
}

/// <summary>
/// A reference to anything lineage connects: <c>dataset:{name}:{version}</c>, <c>run:{runId}</c>,
/// <c>model:{name}:{version}</c>, <c>deployment:{endpoint}:{deployment}</c>, <c>external:{namespace}/{name}</c>.
/// </summary>
public sealed record ArtifactRef
{
    public const int MaxLength = 500;

    private ArtifactRef(ArtifactKind kind, string value)
    {
        Kind = kind;
        Value = value;
    }

    public ArtifactKind Kind { get; }

    /// <summary>Everything after the kind and its colon.</summary>
    public string Value { get; }

    public static ArtifactRef Dataset(string name, int version) => Parse($"dataset:{name}:{version}");

    public static ArtifactRef Run(string runId) => Parse($"run:{runId}");

    public static ArtifactRef External(string @namespace, string name) => Parse($"external:{@namespace}/{name}");

    public static ArtifactRef Parse(string text) =>
        TryParse(text, out var reference, out var problem) ? reference : throw new DomainException(problem);

    public static bool TryParse(string? text, [NotNullWhen(true)] out ArtifactRef? reference, out string problem)
    {
        reference = null;
        problem = "";
        if (string.IsNullOrWhiteSpace(text) || text.Length > MaxLength)
        {
            problem = $"An artifact reference is 1 to {MaxLength} characters, such as 'dataset:credit-risk:2'.";
            return false;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var kindText = colon < 0 ? text : text[..colon];
        var value = colon < 0 ? "" : text[(colon + 1)..];
        if (!Enum.TryParse<ArtifactKind>(kindText, ignoreCase: false, out var kind) && !TryKind(kindText, out kind))
        {
            problem = $"'{kindText}' is not an artifact kind; use dataset, run, model, deployment or external.";
            return false;
        }

        var parts = value.Split(':');
        var ok = kind switch
        {
            ArtifactKind.Dataset or ArtifactKind.Model => parts.Length == 2 && DatasetNames.Problem(parts[0]) is null && IsVersion(parts[1]),
            ArtifactKind.Run => parts.Length == 1 && IsToken(parts[0]),
            ArtifactKind.Deployment => parts.Length == 2 && IsToken(parts[0]) && IsToken(parts[1]),
            _ => value.Length > 0 && !value.Any(char.IsControl) && !value.Contains(' ', StringComparison.Ordinal),
        };
        if (!ok)
        {
            problem = kind switch
            {
                ArtifactKind.Dataset => $"'{text}' is not a dataset reference; use dataset:<name>:<version>, e.g. dataset:credit-risk:2.",
                ArtifactKind.Model => $"'{text}' is not a model reference; use model:<name>:<version>.",
                ArtifactKind.Run => $"'{text}' is not a run reference; use run:<run id>.",
                ArtifactKind.Deployment => $"'{text}' is not a deployment reference; use deployment:<endpoint>:<deployment>.",
                _ => $"'{text}' is not an external reference; use external:<namespace>/<name> without spaces.",
            };
            return false;
        }

        reference = new ArtifactRef(kind, value);
        return true;
    }

    /// <summary>The dataset (or model) name of a dataset (or model) reference.</summary>
    public string Name => Value.Split(':')[0];

    /// <summary>The version number of a dataset or model reference.</summary>
    public int? Version => Kind is ArtifactKind.Dataset or ArtifactKind.Model
        ? int.Parse(Value.Split(':')[1], CultureInfo.InvariantCulture)
        : null;

    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()}:{Value}";

    private static bool TryKind(string text, out ArtifactKind kind)
    {
        kind = default;
        return text is "dataset" or "run" or "model" or "deployment" or "external"
            && Enum.TryParse(text, ignoreCase: true, out kind);
    }

    private static bool IsVersion(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= 1;

    private static bool IsToken(string text) =>
        text.Length is > 0 and <= 200 && text.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
}
