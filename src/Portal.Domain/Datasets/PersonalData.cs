using Portal.Domain.Common;
using Portal.Domain.Identity;

namespace Portal.Domain.Datasets;

/// <summary>
/// Who may see the original values of personal or secret data, and which columns hold it. Everyone who can
/// open Datasets sees such columns masked (previews, profiles, top values, validation examples); the
/// original file, and whatever a run made from it (its artifacts and log), is for the people who work on
/// the data — data scientists — and administrators. Each raw download is audited.
/// </summary>
public static class PersonalData
{
    public const string Mask = "•••";

    public static bool MayReadRaw(Actor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return actor.BuildsModels || actor == Actor.System;
    }

    /// <summary>
    /// The columns of <paramref name="version"/> holding personal or secret data: marked sensitive in the
    /// dataset's current contract, or found to look like personal data when the version was stored.
    /// </summary>
    public static IReadOnlySet<string> SensitiveColumns(Dataset dataset, DatasetVersion version)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(version);
        var columns = new SortedSet<string>(version.Pii.Select(p => p.Column), StringComparer.Ordinal);
        columns.UnionWith(dataset.Contract?.Columns.Where(c => c.Sensitive).Select(c => c.Name) ?? []);
        return columns;
    }

    /// <summary>
    /// Examples of a failed check as shown to anyone: <c>line 7: 'alice@x.org'</c> becomes <c>line 7: •••</c>;
    /// examples that describe rather than quote (<c>line 3: no value</c>) stay as they are.
    /// </summary>
    public static IReadOnlyList<string> MaskExamples(IEnumerable<string> examples) =>
        [.. examples.Select(e => e.IndexOf(": ", StringComparison.Ordinal) is var colon and > 0 && e[(colon + 2)..].StartsWith('\'')
            ? $"{e[..colon]}: {Mask}"
            : e)];

    /// <summary>Why <paramref name="actor"/> is refused the raw bytes of <paramref name="what"/>.</summary>
    public static string Refusal(string what, IEnumerable<string> columns) =>
        $"{what} holds personal data (columns {string.Join(", ", columns)}); the original values are for data scientists and administrators. "
        + "The preview, profile and validation report show those columns masked.";
}
