using System.Globalization;
using System.Text;
using Portal.Domain.Experiments;

namespace Portal.Infrastructure.Experiments;

/// <summary>MLflow's opaque page tokens; ours carry an offset.</summary>
public static class PageToken
{
    public static string Encode(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"o:{offset.ToString(CultureInfo.InvariantCulture)}"));

    public static int Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            if (text.StartsWith("o:", StringComparison.Ordinal) && int.TryParse(text[2..], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                return offset;
            }
        }
        catch (FormatException)
        {
        }

        throw TrackingException.Invalid($"Invalid page token '{token}'.");
    }
}
