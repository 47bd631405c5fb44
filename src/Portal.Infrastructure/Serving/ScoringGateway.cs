using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using Portal.Domain.Common;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Http;

namespace Portal.Infrastructure.Serving;

/// <summary>
/// <c>POST /score/{endpoint}</c>: checks the rows against the model's signature, picks a deployment by
/// weight (or the one the <c>azureml-model-deployment</c> header pins), waits briefly for a free slot, and
/// forwards the request over a pooled connection to a ready instance — once more to another instance when
/// one refuses the connection. Answers name the deployment (<c>x-deployment</c>) and split the time between
/// gateway and model (<c>Server-Timing</c>). Every request is counted; a sampled share is stored with
/// sensitive columns redacted; a share is copied to the mirror deployment off the caller's path.
/// </summary>
public sealed class ScoringGateway
{
    public const string PinHeader = "azureml-model-deployment";
    public const string DeploymentHeader = "x-deployment";

    /// <summary>Set by the demo's traffic generator, so its requests are labelled as sample traffic.</summary>
    public const string SampleTrafficHeader = "x-portal-sample-traffic";

    private readonly ServingTable _table;
    private readonly ModelForwarder _forwarder;
    private readonly ScoringSamples _samples;
    private readonly MirrorQueue _mirror;
    private readonly ServingMetrics.DeploymentSeries _unrouted;
    private readonly IOptions<PortalOptions> _options;
    private readonly TimeProvider _time;

    public ScoringGateway(ServingTable table, ModelForwarder forwarder, ScoringSamples samples, MirrorQueue mirror, ServingMetrics metrics, IOptions<PortalOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        (_table, _forwarder, _samples, _mirror, _options, _time) = (table, forwarder, samples, mirror, options, time);
        _unrouted = metrics.For("(none)", "(none)");
    }

    public async Task ScoreAsync(HttpContext context, string endpointName)
    {
        ArgumentNullException.ThrowIfNull(context);
        var started = Stopwatch.GetTimestamp();
        var aborted = context.RequestAborted;
        var options = _options.Value.Deployments;
        var route = _table.Find(endpointName);
        if (route is null)
        {
            _unrouted.Answered(404);
            await ProblemAsync(context, 404, "Not found", $"There is no endpoint '{Names.Visible(endpointName)}'.");
            return;
        }

        var body = await BoundedBody.ReadAsync(context.Request, options.MaxRequestBytes, aborted);
        if (body is null)
        {
            _unrouted.Answered(413);
            await ProblemAsync(context, 413, "Request too large",
                $"The body is larger than {options.MaxRequestKilobytes:N0} KB, the most this gateway accepts (Portal:Deployments:MaxRequestKilobytes); send fewer rows per request.");
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException e)
        {
            _unrouted.Answered(400);
            await ProblemAsync(context, 400, "Bad request", $"The body is not valid JSON: {e.Message}", Field("body", $"body: not valid JSON ({e.Message})."));
            return;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
            {
                _unrouted.Answered(400);
                await ProblemAsync(context, 400, "Bad request", "Send {\"inputs\": [{feature: value, …}, …]}: an object whose inputs are a list of rows.",
                    Field("inputs", "inputs: a list of rows, one object of feature: value per row."));
                return;
            }

            var rows = inputs.GetArrayLength();
            if (rows == 0 || rows > options.MaxRowsPerRequest)
            {
                _unrouted.Answered(400);
                var message = rows == 0 ? "inputs: give at least one row." : $"inputs: {rows:N0} rows; at most {options.MaxRowsPerRequest:N0} per request (Portal:Deployments:MaxRowsPerRequest).";
                await ProblemAsync(context, 400, "Bad request", message, Field("inputs", message));
                return;
            }

            var pinned = context.Request.Headers[PinHeader].ToString();
            DeploymentRoute? deployment;
            if (pinned.Length > 0)
            {
                deployment = route.Find(pinned);
                if (deployment is null)
                {
                    _unrouted.Answered(404);
                    await ProblemAsync(context, 404, "Not found", $"Endpoint {route.Name} has no deployment '{Names.Visible(pinned)}' ({PinHeader} header).");
                    return;
                }
            }
            else
            {
                deployment = route.Pick(Random.Shared.NextDouble());
                if (deployment is null)
                {
                    var status = route.TakesTraffic ? 503 : 404;
                    _unrouted.Answered(status);
                    await ProblemAsync(context, status, route.TakesTraffic ? "No healthy deployment" : "No deployment has traffic",
                        route.TakesTraffic
                            ? $"No deployment of {route.Name} that takes traffic can answer now: {string.Join("; ", route.Deployments.Where(d => d.Weight > 0).Select(d => $"{d.Name} is {d.State}{(d.StateReason is null ? "" : $" ({d.StateReason})")}"))}."
                            : $"Endpoint {route.Name} sends no traffic to any deployment; set its traffic first (or pin one with the {PinHeader} header).",
                        retryAfter: route.TakesTraffic);
                    return;
                }
            }

            await ScoreWithAsync(context, route, deployment, body, inputs, rows, pinned.Length > 0, started);
        }
    }

    private async Task ScoreWithAsync(HttpContext context, EndpointRoute route, DeploymentRoute deployment, byte[] body, JsonElement inputs, int rows, bool pinned, long started)
    {
        var aborted = context.RequestAborted;
        var now = _time.GetUtcNow().UtcDateTime;
        var sampleTraffic = context.Request.Headers.ContainsKey(SampleTrafficHeader);
        var stats = deployment.Stats;
        if (SignatureCheck.Check(inputs, deployment.Signature, feature => stats.RecordTypeError(now, feature)) is { } errors)
        {
            Finish(deployment, 400, started, null, sampleTraffic);
            await ProblemAsync(context, 400, "Bad request", $"The rows do not match what {deployment.Model} version {deployment.Version} reads: {errors}", errors.ToDictionary(),
                deployment: deployment.Name);
            return;
        }

        if (!pinned && !deployment.IsServing)
        {
            Finish(deployment, 503, started, null, sampleTraffic);
            await ProblemAsync(context, 503, "Deployment not ready", $"Deployment {deployment.Name} is {deployment.State}: {deployment.StateReason}", retryAfter: true, deployment: deployment.Name);
            return;
        }

        if (!await deployment.Limiter.WaitAsync(deployment.MaxQueueWaitMs, aborted))
        {
            Finish(deployment, 429, started, null, sampleTraffic);
            await ProblemAsync(context, 429, "Too many requests",
                $"Deployment {deployment.Name} is answering as many requests as its instances allow, and none freed up within {deployment.MaxQueueWaitMs} ms; retry shortly, or ask Ops for more instances.",
                retryAfter: true, deployment: deployment.Name);
            return;
        }

        ModelAnswer answer;
        stats.Enter();
        deployment.Metrics.InFlight.Inc();
        try
        {
            answer = await _forwarder.ForwardAsync(deployment, body, rows, aborted);
        }
        finally
        {
            deployment.Limiter.Release();
            stats.Leave();
            deployment.Metrics.InFlight.Dec();
        }

        using var predictions = answer.Predictions;
        var totalMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        var response = context.Response;
        response.Headers[DeploymentHeader] = deployment.Name;
        response.Headers[PinHeader] = deployment.Name;
        if (answer.ModelMs is { } modelMs)
        {
            response.Headers["Server-Timing"] = string.Create(CultureInfo.InvariantCulture, $"gateway;dur={Math.Max(0, totalMs - modelMs):0.###}, model;dur={modelMs:0.###}");
        }

        if (answer.Status == 200)
        {
            response.StatusCode = 200;
            response.ContentType = "application/json";
            response.ContentLength = answer.Body!.Length;
            await response.Body.WriteAsync(answer.Body, aborted);
        }
        else
        {
            await ProblemAsync(context, answer.Status, answer.Title!, answer.Detail!, deployment: deployment.Name, modelStatus: answer.ModelStatus, retryAfter: answer.Status == 503);
        }

        now = _time.GetUtcNow().UtcDateTime;
        Finish(deployment, answer.Status, started, answer.ModelMs, sampleTraffic);
        stats.Window.Append(now, inputs);
        if (predictions is not null)
        {
            stats.Window.AppendPredictions(now, predictions.RootElement.GetProperty("predictions"));
        }

        var options = _options.Value.Deployments;
        if (options.SampleRate > 0 && Random.Shared.NextDouble() < options.SampleRate)
        {
            _samples.Offer(deployment, now, answer.Status, totalMs, inputs, rows, predictions?.RootElement.GetProperty("predictions"), answer.Detail, sampleTraffic, options.SampleRowsKept);
        }

        if (!pinned && answer.Status == 200 && route.Mirror is { } mirror && Random.Shared.Next(100) < route.MirrorPercent)
        {
            _mirror.Offer(mirror, body, rows, predictions!.RootElement.GetProperty("predictions").Clone());
        }
    }

    private void Finish(DeploymentRoute deployment, int status, long started, double? modelMs, bool sampleTraffic)
    {
        var totalMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        deployment.Stats.Record(_time.GetUtcNow().UtcDateTime, status, totalMs, modelMs, sampleTraffic);
        deployment.Metrics.Answered(status);
        deployment.Metrics.Total.Observe(totalMs / 1000);
        if (modelMs is { } model)
        {
            deployment.Metrics.Model.Observe(model / 1000);
            deployment.Metrics.Gateway.Observe(Math.Max(0, totalMs - model) / 1000);
        }
    }

    /// <summary>
    /// Scores <paramref name="body"/> in the portal's own process, as if it came over HTTP (the demo's sample
    /// traffic, the try-it box): same checks, routing and recording. The answer's body goes to <paramref name="answer"/>.
    /// </summary>
    public async Task<HttpResponse> ScoreInProcessAsync(string endpoint, byte[] body, IReadOnlyDictionary<string, string> headers, Stream answer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(headers);
        var context = new DefaultHttpContext { RequestAborted = cancellationToken };
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = $"/score/{endpoint}";
        context.Request.ContentType = "application/json";
        context.Request.ContentLength = body.Length;
        context.Request.Body = new MemoryStream(body);
        foreach (var (name, value) in headers)
        {
            context.Request.Headers[name] = value;
        }

        context.Response.Body = answer;
        await ScoreAsync(context, endpoint);
        return context.Response;
    }

    private static IDictionary<string, string[]> Field(string field, string message) => new Dictionary<string, string[]> { [field] = [message] };

    /// <summary>An RFC 9457 problem answer, written directly (this path runs thousands of times a second).</summary>
    private static async Task ProblemAsync(HttpContext context, int status, string title, string detail, IDictionary<string, string[]>? errors = null,
        bool retryAfter = false, string? deployment = null, int? modelStatus = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/problem+json";
        if (retryAfter || status == 429)
        {
            response.Headers.RetryAfter = "1";
        }

        if (deployment is not null)
        {
            response.Headers[DeploymentHeader] = deployment;
        }

        using var buffer = new MemoryStream();
        await using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("type", $"https://httpstatuses.io/{status.ToString(CultureInfo.InvariantCulture)}");
            json.WriteString("title", title);
            json.WriteNumber("status", status);
            json.WriteString("detail", detail);
            if (modelStatus is { } answered)
            {
                json.WriteNumber("modelStatus", answered);
            }

            if (deployment is not null)
            {
                json.WriteString("deployment", deployment);
            }

            if (errors is not null)
            {
                json.WriteStartObject("errors");
                foreach (var (field, messages) in errors)
                {
                    json.WriteStartArray(field);
                    foreach (var message in messages)
                    {
                        json.WriteStringValue(message);
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();
        }

        response.ContentLength = buffer.Length;
        await response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }
}
