using System.Text;

namespace Portal.Domain.Experiments;

/// <summary>The filter language's tokens: words (keys), numbers, quoted strings and keys, operators.</summary>
public static partial class RunFilter
{
    private enum TokenKind
    {
        Word,
        Number,
        String,
        Quoted,
        Operator,
    }

    private sealed record Token(TokenKind Kind, string Text)
    {
        public bool IsWord(string word) => Kind == TokenKind.Word && Text.Equals(word, StringComparison.OrdinalIgnoreCase);
    }

    private static List<Token> Tokenize(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c is '\'' or '"' or '`')
            {
                var (value, next) = ReadQuoted(text, i);
                // Double quotes and backticks quote keys (metrics."my metric"); single quotes quote values.
                if (c != '\'' && tokens.Count > 0 && tokens[^1] is { Kind: TokenKind.Word } previous && previous.Text.EndsWith('.'))
                {
                    tokens[^1] = previous with { Text = previous.Text + value };
                }
                else
                {
                    tokens.Add(new Token(c == '`' ? TokenKind.Quoted : TokenKind.String, value));
                }

                i = next;
            }
            else if (char.IsDigit(c) || ((c is '-' or '+' or '.') && i + 1 < text.Length && (char.IsDigit(text[i + 1]) || text[i + 1] == '.')))
            {
                var start = i++;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '.' || (text[i] is '-' or '+' && text[i - 1] is 'e' or 'E')))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Number, text[start..i]));
            }
            else if (char.IsLetter(c) || c == '_')
            {
                var start = i;
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] is '_' or '.' or '-' or '/' or ':'))
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Word, text[start..i]));
            }
            else if (c is '(' or ')' or ',')
            {
                tokens.Add(new Token(TokenKind.Operator, c.ToString()));
                i++;
            }
            else if (c is '=' or '!' or '<' or '>')
            {
                var start = i++;
                while (i < text.Length && text[i] is '=' or '>')
                {
                    i++;
                }

                tokens.Add(new Token(TokenKind.Operator, text[start..i]));
            }
            else
            {
                throw Invalid(text, $"unexpected character '{c}' at position {i + 1}");
            }
        }

        return tokens;
    }

    private static (string Value, int Next) ReadQuoted(string text, int start)
    {
        var quote = text[start];
        var value = new StringBuilder();
        var i = start + 1;
        while (i < text.Length)
        {
            if (text[i] == quote)
            {
                // A doubled quote inside a string is one quote, as in SQL.
                if (i + 1 < text.Length && text[i + 1] == quote)
                {
                    value.Append(quote);
                    i += 2;
                    continue;
                }

                return (value.ToString(), i + 1);
            }

            value.Append(text[i++]);
        }

        throw Invalid(text, $"the quote opened at position {start + 1} is not closed");
    }
}
