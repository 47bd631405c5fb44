using System.Globalization;
using System.Text;
using System.Text.Json;
using Portal.Domain.Datasets;
using Portal.Infrastructure.Serving;

namespace Portal.Features.Deployments;

/// <summary>What the try-it box got back: status, who answered, the time split, and the body.</summary>
public sealed record TryItAnswer(int Status, string? Deployment, double? GatewayMs, double? ModelMs, string Body);

/// <summary>
/// The try-it box: a request built from the model's signature (typical values of its training data), sent
/// through the real gateway in the portal's process — same routing, checks and forwarding as over HTTP.
/// </summary>
public static class TryIt
{
    public static string Example(DeploymentRoute? deployment)
    {
        var row = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var column in deployment?.Signature ?? [])
        {
            var profile = deployment?.Reference?.Column(column.Name);
            row[column.Name] = column.Type switch
            {
                ColumnType.Integer => (object)(long)Math.Round(profile?.Quantile(0.5) ?? 0),
                ColumnType.Float => Math.Round(profile?.Quantile(0.5) ?? 0, 2),
                ColumnType.Boolean => false,
                _ => profile?.TopValues.FirstOrDefault()?.Value ?? "",
            };
        }

        return JsonSerializer.Serialize(new { inputs = new[] { row } }, new JsonSerializerOptions { WriteIndented = true });
    }

    public static async Task<TryItAnswer> SendAsync(ScoringGateway gateway, string endpoint, string body, string? pin, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gateway);
        var headers = string.IsNullOrEmpty(pin) ? new Dictionary<string, string>() : new Dictionary<string, string> { [ScoringGateway.PinHeader] = pin };
        using var answer = new MemoryStream();
        var response = await gateway.ScoreInProcessAsync(endpoint, Encoding.UTF8.GetBytes(body ?? ""), headers, answer, cancellationToken);
        var timing = response.Headers["Server-Timing"].ToString();
        var text = Encoding.UTF8.GetString(answer.ToArray());
        try
        {
            text = JsonSerializer.Serialize(JsonDocument.Parse(text).RootElement, new JsonSerializerOptions { WriteIndented = true });
        }
        catch (JsonException)
        {
            // Shown as it came.
        }

        return new TryItAnswer(response.StatusCode, response.Headers[ScoringGateway.DeploymentHeader].ToString() is { Length: > 0 } d ? d : null,
            Duration(timing, "gateway"), Duration(timing, "model"), text);
    }

    private static double? Duration(string timing, string name) =>
        timing.Split(',').Select(p => p.Trim()).FirstOrDefault(p => p.StartsWith(name + ";dur=", StringComparison.Ordinal)) is { } part
        && double.TryParse(part[(name.Length + 5)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) ? ms : null;
}
