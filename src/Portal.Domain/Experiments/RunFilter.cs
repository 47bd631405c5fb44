using System.Globalization;

namespace Portal.Domain.Experiments;

/// <summary>What a filter or order clause refers to: a run's metric, param, tag or one of its attributes.</summary>
public enum RunField
{
    Metric,
    Param,
    Tag,
    Attribute,
}

public enum FilterOperator
{
    Equal,
    NotEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    Like,
    ILike,
    In,
    NotIn,
}

/// <summary>One <c>field.key op value</c> clause. <see cref="Number"/> is set for metrics and numeric attributes.</summary>
public sealed record RunCondition(RunField Field, string Key, FilterOperator Operator, string? Text, double? Number, IReadOnlyList<string> List);

/// <summary>One order-by clause: <c>metrics.auc DESC</c>.</summary>
public sealed record RunOrder(RunField Field, string Key, bool Descending);

/// <summary>
/// MLflow's search syntax for runs: clauses joined by AND, such as
/// <c>metrics.auc &gt; 0.8 and params.depth = '5' and attributes.status = 'FINISHED'</c>. Keys with spaces or
/// dots can be quoted with backticks or double quotes. Anything else is refused naming what was wrong.
/// </summary>
public static partial class RunFilter
{
    /// <summary>Attributes a filter may use, by MLflow's names; the value says whether it is numeric.</summary>
    public static readonly IReadOnlyDictionary<string, bool> Attributes = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["run_id"] = false,
        ["run_name"] = false,
        ["status"] = false,
        ["user_id"] = false,
        ["start_time"] = true,
        ["end_time"] = true,
    };

    public static IReadOnlyList<RunCondition> Parse(string? filter)
    {
        var conditions = new List<RunCondition>();
        if (string.IsNullOrWhiteSpace(filter))
        {
            return conditions;
        }

        var tokens = Tokenize(filter);
        var i = 0;
        while (true)
        {
            conditions.Add(ParseCondition(tokens, ref i, filter));
            if (i >= tokens.Count)
            {
                return conditions;
            }

            if (!tokens[i].IsWord("and"))
            {
                throw Invalid(filter, $"expected AND before '{tokens[i].Text}' (OR is not supported, as in MLflow)");
            }

            i++;
        }
    }

    /// <summary>Parses <c>metrics.auc DESC</c>, <c>params.depth</c>, <c>start_time ASC</c>.</summary>
    public static RunOrder ParseOrder(string? orderBy)
    {
        if (string.IsNullOrWhiteSpace(orderBy))
        {
            return new RunOrder(RunField.Attribute, "start_time", Descending: true);
        }

        var tokens = Tokenize(orderBy);
        var i = 0;
        var (field, key) = ParseIdentifier(tokens, ref i, orderBy);
        var descending = false;
        if (i < tokens.Count)
        {
            if (tokens[i].IsWord("desc"))
            {
                descending = true;
            }
            else if (!tokens[i].IsWord("asc"))
            {
                throw TrackingException.Invalid($"Invalid order_by clause '{orderBy}': expected ASC or DESC after the key.");
            }

            i++;
        }

        if (i < tokens.Count)
        {
            throw TrackingException.Invalid($"Invalid order_by clause '{orderBy}': unexpected '{tokens[i].Text}'.");
        }

        return new RunOrder(field, key, descending);
    }

    private static RunCondition ParseCondition(List<Token> tokens, ref int i, string filter)
    {
        var (field, key) = ParseIdentifier(tokens, ref i, filter);
        if (i >= tokens.Count)
        {
            throw Invalid(filter, $"'{key}' needs a comparison, such as = 'value' or > 0.5");
        }

        var op = ParseOperator(tokens, ref i, filter);
        var numeric = field == RunField.Metric || (field == RunField.Attribute && Attributes[key]);
        var allowed = numeric
            ? op is not (FilterOperator.Like or FilterOperator.ILike or FilterOperator.In or FilterOperator.NotIn)
            : op is FilterOperator.Equal or FilterOperator.NotEqual or FilterOperator.Like or FilterOperator.ILike
                || (op is FilterOperator.In or FilterOperator.NotIn && field == RunField.Attribute && key == "run_id");
        if (!allowed)
        {
            throw Invalid(filter, $"operator {OperatorText(op)} cannot be used with {Describe(field, key)}");
        }

        if (op is FilterOperator.In or FilterOperator.NotIn)
        {
            return new RunCondition(field, key, op, null, null, ParseList(tokens, ref i, filter));
        }

        if (i >= tokens.Count)
        {
            throw Invalid(filter, $"missing value after {Describe(field, key)} {OperatorText(op)}");
        }

        var value = tokens[i++];
        if (numeric)
        {
            if (value.Kind != TokenKind.Number || !double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                throw Invalid(filter, $"{Describe(field, key)} compares with a number, not {value.Text}");
            }

            return new RunCondition(field, key, op, null, number, []);
        }

        if (value.Kind != TokenKind.String)
        {
            throw Invalid(filter, $"{Describe(field, key)} compares with a quoted string, such as '{value.Text}'");
        }

        return new RunCondition(field, key, op, value.Text, null, []);
    }

    private static (RunField Field, string Key) ParseIdentifier(List<Token> tokens, ref int i, string text)
    {
        if (i >= tokens.Count || tokens[i].Kind != TokenKind.Word)
        {
            throw Invalid(text, "expected a key such as metrics.auc, params.depth, tags.team or attributes.status");
        }

        var word = tokens[i++].Text;
        var dot = word.IndexOf('.', StringComparison.Ordinal);
        var prefix = dot < 0 ? "" : word[..dot].ToLowerInvariant();
        var field = prefix switch
        {
            "metric" or "metrics" => RunField.Metric,
            "param" or "params" or "parameter" or "parameters" => RunField.Param,
            "tag" or "tags" => RunField.Tag,
            "attribute" or "attributes" or "attr" or "run" => RunField.Attribute,
            _ => (RunField?)null,
        };
        string key;
        if (field is null)
        {
            // A bare attribute name (start_time, status, run_name), as MLflow allows.
            field = RunField.Attribute;
            key = word;
        }
        else
        {
            key = word[(dot + 1)..];
            if (key.Length == 0 && i < tokens.Count && tokens[i].Kind is TokenKind.Quoted)
            {
                key = tokens[i++].Text;
            }
        }

        if (field == RunField.Attribute)
        {
            key = key.ToLowerInvariant() switch
            {
                "name" or "runname" => "run_name",
                "id" or "runid" => "run_id",
                var k => k,
            };
            if (!Attributes.ContainsKey(key))
            {
                throw Invalid(text, $"'{word}' is not a key; use metrics.<key>, params.<key>, tags.<key> or one of the attributes {string.Join(", ", Attributes.Keys)}");
            }
        }
        else if (key.Length == 0)
        {
            throw Invalid(text, $"'{word}' needs a key after the dot");
        }

        return (field.Value, key);
    }

    private static FilterOperator ParseOperator(List<Token> tokens, ref int i, string filter)
    {
        var t = tokens[i++];
        if (t.Kind == TokenKind.Operator)
        {
            return t.Text switch
            {
                "=" or "==" => FilterOperator.Equal,
                "!=" or "<>" => FilterOperator.NotEqual,
                ">" => FilterOperator.Greater,
                ">=" => FilterOperator.GreaterOrEqual,
                "<" => FilterOperator.Less,
                "<=" => FilterOperator.LessOrEqual,
                _ => throw Invalid(filter, $"'{t.Text}' is not a comparison"),
            };
        }

        if (t.IsWord("like"))
        {
            return FilterOperator.Like;
        }

        if (t.IsWord("ilike"))
        {
            return FilterOperator.ILike;
        }

        if (t.IsWord("in"))
        {
            return FilterOperator.In;
        }

        if (t.IsWord("not") && i < tokens.Count && tokens[i].IsWord("in"))
        {
            i++;
            return FilterOperator.NotIn;
        }

        throw Invalid(filter, $"'{t.Text}' is not a comparison; use =, !=, >, >=, <, <=, LIKE, ILIKE or IN");
    }

    private static List<string> ParseList(List<Token> tokens, ref int i, string filter)
    {
        if (i >= tokens.Count || tokens[i].Text != "(" || tokens[i].Kind != TokenKind.Operator)
        {
            throw Invalid(filter, "IN needs a list in parentheses, such as ('a', 'b')");
        }

        i++;
        var values = new List<string>();
        while (i < tokens.Count)
        {
            if (tokens[i].Kind != TokenKind.String)
            {
                throw Invalid(filter, $"list items are quoted strings, not {tokens[i].Text}");
            }

            values.Add(tokens[i++].Text);
            if (i < tokens.Count && tokens[i].Text == ",")
            {
                i++;
                continue;
            }

            if (i < tokens.Count && tokens[i].Text == ")")
            {
                i++;
                return values;
            }

            break;
        }

        throw Invalid(filter, "the list is not closed with ')'");
    }

    private static string Describe(RunField field, string key) => field switch
    {
        RunField.Metric => $"metrics.{key}",
        RunField.Param => $"params.{key}",
        RunField.Tag => $"tags.{key}",
        _ => $"attributes.{key}",
    };

    private static string OperatorText(FilterOperator op) => op switch
    {
        FilterOperator.Equal => "=",
        FilterOperator.NotEqual => "!=",
        FilterOperator.Greater => ">",
        FilterOperator.GreaterOrEqual => ">=",
        FilterOperator.Less => "<",
        FilterOperator.LessOrEqual => "<=",
        FilterOperator.Like => "LIKE",
        FilterOperator.ILike => "ILIKE",
        FilterOperator.In => "IN",
        _ => "NOT IN",
    };

    private static TrackingException Invalid(string filter, string problem) =>
        TrackingException.Invalid($"Invalid filter '{filter}': {problem}.");
}
