using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Datasets;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Serving;

namespace Portal.Infrastructure.Demo;

/// <summary>
/// The demo's sample traffic: loan applications drawn from the September extract (what the model was trained
/// on) sent to the demo endpoint through the real gateway — routing, checks, forwarding, monitoring — at a
/// steady random rate, one to four rows each. Applicants' income grows slowly, so the drift monitor and its
/// alert come alive after a few minutes. Every request is labelled as sample traffic, and pages say so.
/// On in demo mode unless <c>Portal:Deployments:SampleTraffic:Enabled</c> says otherwise.
/// </summary>
public sealed partial class SampleTrafficGenerator(
    ScoringGateway gateway,
    ServingTable routes,
    DemoSeeder seeder,
    IOptions<PortalOptions> options,
    ILogger<SampleTrafficGenerator> logger) : BackgroundService
{
    /// <summary>Income stops growing at this many times its starting level.</summary>
    public const double MaxIncomeGrowth = 0.8;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Deployments.SampleTraffic;
        if (!(settings.Enabled ?? (options.Value.Demo.Enabled && seeder.Active)))
        {
            return;
        }

        var rows = ReadApplications();
        var started = (DateTime?)null;
        var random = new Random(7);
        var logged = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(-Math.Log(1 - random.NextDouble()) / settings.RequestsPerSecond), stoppingToken);
                if (routes.Find(DemoDeploymentsStep.Endpoint) is not { TakesTraffic: true } endpoint)
                {
                    continue;
                }

                started ??= DateTime.UtcNow;
                if (!logged)
                {
                    logged = true;
                    LogStarted(endpoint.Name, settings.RequestsPerSecond);
                }

                var growth = 1 + Math.Min(settings.IncomeDriftPerHour * (DateTime.UtcNow - started.Value).TotalHours, MaxIncomeGrowth);
                var signature = endpoint.Deployments.FirstOrDefault(d => d.Weight > 0)?.Signature ?? [];
                await SendAsync(Body(rows, signature, random, growth), endpoint.Name, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(e);
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken);
            }
        }
    }

    /// <summary>One request through the gateway, as if it came over HTTP, labelled as sample traffic.</summary>
    private Task SendAsync(byte[] body, string endpoint, CancellationToken cancellationToken) =>
        gateway.ScoreInProcessAsync(endpoint, body, new Dictionary<string, string> { [ScoringGateway.SampleTrafficHeader] = "demo" }, Stream.Null, cancellationToken);

    private static byte[] Body(IReadOnlyList<Dictionary<string, string>> rows, IReadOnlyList<ColumnSchema> signature, Random random, double growth)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray("inputs");
            for (int i = 0, n = random.Next(1, 5); i < n; i++)
            {
                var row = rows[random.Next(rows.Count)];
                json.WriteStartObject();
                foreach (var column in signature)
                {
                    var text = row.GetValueOrDefault(column.Name) ?? "";
                    switch (column.Type)
                    {
                        case ColumnType.Integer when long.TryParse(text, CultureInfo.InvariantCulture, out var whole):
                            json.WriteNumber(column.Name, whole);
                            break;
                        case ColumnType.Float when double.TryParse(text, CultureInfo.InvariantCulture, out var number):
                            json.WriteNumber(column.Name, Math.Round(column.Name == "annual_income" ? number * growth : number, 2));
                            break;
                        case ColumnType.Boolean:
                            json.WriteBoolean(column.Name, text.Equals("true", StringComparison.OrdinalIgnoreCase));
                            break;
                        default:
                            json.WriteString(column.Name, text);
                            break;
                    }
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The September applications with every value present (the model cannot score missing ones).</summary>
    private static List<Dictionary<string, string>> ReadApplications()
    {
        using var content = typeof(SampleTrafficGenerator).Assembly.GetManifestResourceStream("demo/credit-risk-2026-09.csv")
            ?? throw new InvalidOperationException("The demo file credit-risk-2026-09.csv is missing from the build.");
        using var reader = new StreamReader(content);
        var header = reader.ReadLine()!.Split(',');
        var rows = new List<Dictionary<string, string>>();
        while (reader.ReadLine() is { } line)
        {
            var fields = line.Split(',');
            if (fields.Length == header.Length && fields.All(f => f.Length > 0))
            {
                rows.Add(header.Zip(fields).ToDictionary(p => p.First, p => p.Second, StringComparer.Ordinal));
            }
        }

        return rows;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: sample traffic to endpoint {Endpoint} at {Rate} requests/s (labelled as sample traffic)")]
    private partial void LogStarted(string endpoint, double rate);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo: a sample request failed to send; the generator carries on")]
    private partial void LogFailed(Exception exception);
}
