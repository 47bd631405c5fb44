using System.Globalization;
using System.Text.RegularExpressions;
using Portal.Domain.Experiments;

namespace Portal.Infrastructure.Models;

/// <summary>
/// MLflow's registry search filter: clauses joined by AND, each <c>key op value</c>, where key is
/// <c>name</c>, <c>run_id</c>, <c>source_path</c>, <c>version_number</c> or <c>tags.&lt;key&gt;</c>, op is
/// <c>= != LIKE ILIKE IN</c>, and value a quoted string, a number or a parenthesised list for IN.
/// </summary>
public sealed partial class RegistryFilter
{
    private readonly List<(string Key, string Op, IReadOnlyList<string> Values)> _clauses = [];

    // LIKE patterns compiled once per search, not once per model or version they are matched against.
    private readonly List<Regex?> _patterns = [];

    private RegistryFilter()
    {
    }

    public IReadOnlyList<(string Key, string Op, IReadOnlyList<string> Values)> Clauses => _clauses;

    /// <summary>Parses <paramref name="filter"/>; <paramref name="keys"/> are the attributes this search knows besides tags.</summary>
    public static RegistryFilter Parse(string? filter, IReadOnlyCollection<string> keys)
    {
        var parsed = new RegistryFilter();
        if (string.IsNullOrWhiteSpace(filter))
        {
            return parsed;
        }

        foreach (var clause in AndPattern().Split(filter.Trim()))
        {
            var match = ClausePattern().Match(clause);
            if (!match.Success)
            {
                throw TrackingException.Invalid($"Invalid filter '{filter}': could not read '{clause.Trim()}'. Use key = 'value' clauses joined by AND, e.g. name = 'credit-risk' AND tags.team = 'risk'.");
            }

            var key = match.Groups["key"].Value.Trim('`');
            if (!key.StartsWith("tags.", StringComparison.OrdinalIgnoreCase))
            {
                key = key.ToLowerInvariant();
                if (key.StartsWith("attributes.", StringComparison.Ordinal))
                {
                    key = key["attributes.".Length..];
                }

                if (!keys.Contains(key))
                {
                    throw TrackingException.Invalid($"Invalid filter '{filter}': '{key}' is not searchable here; use {string.Join(", ", keys)} or tags.<key>.");
                }
            }
            else
            {
                key = "tags." + key[5..].Trim('`');
            }

            var op = match.Groups["op"].Value.ToUpperInvariant();
            var raw = match.Groups["value"].Value.Trim();
            IReadOnlyList<string> values = op == "IN"
                ? [.. ListItemPattern().Matches(raw).Select(m => Unquote(m.Value))]
                : [Unquote(raw)];
            if (op == "IN" && (!raw.StartsWith('(') || values.Count == 0))
            {
                throw TrackingException.Invalid($"Invalid filter '{filter}': IN takes a list such as ('a', 'b').");
            }

            parsed._clauses.Add((key, op, values));
            parsed._patterns.Add(op is "LIKE" or "ILIKE" ? Like(values[0], op == "ILIKE") : null);
        }

        return parsed;
    }

    /// <summary>Whether an entity whose attributes <paramref name="attribute"/> reads (tags as <c>tags.key</c>) meets every clause.</summary>
    public bool Matches(Func<string, string?> attribute)
    {
        ArgumentNullException.ThrowIfNull(attribute);
        for (var i = 0; i < _clauses.Count; i++)
        {
            var (key, op, values) = _clauses[i];
            var actual = attribute(key);
            var ok = op switch
            {
                "=" => actual is not null && Same(key, actual, values[0]),
                "!=" => actual is null || !Same(key, actual, values[0]),
                "LIKE" or "ILIKE" => actual is not null && _patterns[i]!.IsMatch(actual),
                _ => actual is not null && values.Contains(actual, StringComparer.Ordinal),
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static bool Same(string key, string actual, string wanted) =>
        key == "version_number" && long.TryParse(wanted, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? actual == n.ToString(CultureInfo.InvariantCulture)
            : actual == wanted;

    private static Regex Like(string pattern, bool ignoreCase) =>
        new("^" + string.Concat(pattern.Select(c => c switch { '%' => ".*", '_' => ".", _ => Regex.Escape(c.ToString()) })) + "\\z",
            (ignoreCase ? RegexOptions.IgnoreCase : RegexOptions.None) | RegexOptions.Singleline, TimeSpan.FromSeconds(1));

    private static string Unquote(string value) =>
        value.Length >= 2 && value[0] is '\'' or '"' && value[^1] == value[0] ? value[1..^1] : value;

    [GeneratedRegex(@"\s+AND\s+(?=(?:[^']*'[^']*')*[^']*\z)", RegexOptions.IgnoreCase)]
    private static partial Regex AndPattern();

    [GeneratedRegex(@"^\s*(?<key>`[^`]+`|tags\.`[^`]+`|[A-Za-z_][\w.]*)\s*(?<op>!=|=|ILIKE|LIKE|IN)\s*(?<value>'[^']*'|""[^""]*""|-?\d+|\(.*\))\s*\z", RegexOptions.IgnoreCase)]
    private static partial Regex ClausePattern();

    [GeneratedRegex(@"'[^']*'|""[^""]*""")]
    private static partial Regex ListItemPattern();
}
