using Prometheus;

namespace Portal.Infrastructure.Serving;

/// <summary>
/// The deployments' Prometheus metrics (served on <c>/metrics</c>): requests by status, latency histograms
/// for the gateway's own share, the model's and the whole, requests in flight, mirrored requests, instance
/// restarts and drift scores. Label values are fixed per deployment, so the gateway looks its series up once
/// per route, not per request.
/// </summary>
public sealed class ServingMetrics
{
    private static readonly double[] Buckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180];
    private readonly Counter _requests;
    private readonly Histogram _total;
    private readonly Histogram _gateway;
    private readonly Histogram _model;
    private readonly Gauge _inFlight;
    private readonly Counter _mirrored;
    private readonly Counter _restarts;
    private readonly Gauge _drift;
    private readonly Gauge _predictionDrift;
    private readonly Gauge _healthy;

    public ServingMetrics(CollectorRegistry? registry = null)
    {
        var factory = Metrics.WithCustomRegistry(registry ?? Metrics.DefaultRegistry);
        _requests = factory.CreateCounter("portal_scoring_requests_total", "Scoring requests answered by the gateway, by endpoint, deployment and HTTP status.",
            ["endpoint", "deployment", "status"]);
        _total = factory.CreateHistogram("portal_scoring_request_duration_seconds", "Time from the request reaching the gateway to its answer.",
            new HistogramConfiguration { LabelNames = ["endpoint", "deployment"], Buckets = Buckets });
        _gateway = factory.CreateHistogram("portal_scoring_gateway_duration_seconds", "The gateway's own share of a request's time (total minus the model's).",
            new HistogramConfiguration { LabelNames = ["endpoint", "deployment"], Buckets = Buckets });
        _model = factory.CreateHistogram("portal_scoring_model_duration_seconds", "Time the model server took to answer, as the gateway saw it.",
            new HistogramConfiguration { LabelNames = ["endpoint", "deployment"], Buckets = Buckets });
        _inFlight = factory.CreateGauge("portal_scoring_in_flight_requests", "Scoring requests being answered now.", ["endpoint", "deployment"]);
        _mirrored = factory.CreateCounter("portal_scoring_mirrored_requests_total", "Requests copied to a mirror deployment, by outcome (answered, failed, dropped).",
            ["endpoint", "deployment", "outcome"]);
        _restarts = factory.CreateCounter("portal_model_server_restarts_total", "Model server instances restarted after they exited or were taken out.",
            ["endpoint", "deployment"]);
        _drift = factory.CreateGauge("portal_deployment_drift_score", "Drift of live inputs against the training data, per feature (normalized Wasserstein or Jensen-Shannon distance).",
            ["endpoint", "deployment", "feature"]);
        _predictionDrift = factory.CreateGauge("portal_deployment_prediction_drift_score", "Drift of predictions against the deployment's first predictions.",
            ["endpoint", "deployment"]);
        _healthy = factory.CreateGauge("portal_deployment_healthy", "1 when the deployment is Healthy, 0 otherwise.", ["endpoint", "deployment"]);
    }

    /// <summary>The series of one deployment, looked up once.</summary>
    public DeploymentSeries For(string endpoint, string deployment) => new(this, endpoint, deployment);

    public void Restarted(string endpoint, string deployment) => _restarts.WithLabels(endpoint, deployment).Inc();

    public void Health(string endpoint, string deployment, bool healthy) => _healthy.WithLabels(endpoint, deployment).Set(healthy ? 1 : 0);

    public void Drift(string endpoint, string deployment, DriftReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        foreach (var feature in report.Features)
        {
            _drift.WithLabels(endpoint, deployment, feature.Feature).Set(feature.Score);
        }

        if (report.Prediction is { } prediction)
        {
            _predictionDrift.WithLabels(endpoint, deployment).Set(prediction.Score);
        }
    }

    /// <summary>Removes the series of a deployment that is gone.</summary>
    public void Forget(string endpoint, string deployment)
    {
        _total.RemoveLabelled(endpoint, deployment);
        _gateway.RemoveLabelled(endpoint, deployment);
        _model.RemoveLabelled(endpoint, deployment);
        _inFlight.RemoveLabelled(endpoint, deployment);
        _restarts.RemoveLabelled(endpoint, deployment);
        _predictionDrift.RemoveLabelled(endpoint, deployment);
        _healthy.RemoveLabelled(endpoint, deployment);
    }

    public sealed class DeploymentSeries
    {
        private readonly ServingMetrics _metrics;
        private readonly string _endpoint;
        private readonly string _deployment;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<int, Counter.Child> _byStatus = new();

        internal DeploymentSeries(ServingMetrics metrics, string endpoint, string deployment)
        {
            (_metrics, _endpoint, _deployment) = (metrics, endpoint, deployment);
            Total = metrics._total.WithLabels(endpoint, deployment);
            Gateway = metrics._gateway.WithLabels(endpoint, deployment);
            Model = metrics._model.WithLabels(endpoint, deployment);
            InFlight = metrics._inFlight.WithLabels(endpoint, deployment);
        }

        public Histogram.Child Total { get; }

        public Histogram.Child Gateway { get; }

        public Histogram.Child Model { get; }

        public Gauge.Child InFlight { get; }

        public void Answered(int status) =>
            _byStatus.GetOrAdd(status, s => _metrics._requests.WithLabels(_endpoint, _deployment, s.ToString(System.Globalization.CultureInfo.InvariantCulture))).Inc();

        public void Mirrored(string outcome) => _metrics._mirrored.WithLabels(_endpoint, _deployment, outcome).Inc();
    }
}
