using Portal.Benchmarks;

// Benchmarks print their figures; they are run by hand or in a performance job, never timed in unit tests.
var name = args.FirstOrDefault() ?? "";
var options = args.Skip(1).ToArray();
switch (name)
{
    case "dataset-ingest":
        await DatasetIngestBenchmark.RunAsync(options);
        break;
    case "lineage-closure":
        await LineageClosureBenchmark.RunAsync(options);
        break;
    case "openlineage":
        await OpenLineageBenchmark.RunAsync(options);
        break;
    case "tracking-ingest":
        await TrackingBenchmark.IngestAsync(options);
        break;
    case "runs-search":
        await TrackingBenchmark.SearchAsync(options);
        break;
    case "metric-history":
        await TrackingBenchmark.HistoryAsync(options);
        await MlflowPeerBenchmark.RunAsync(options);
        break;
    case "mlflow-peer":
        await MlflowPeerBenchmark.RunAsync(options);
        break;
    case "serving":
        await Portal.Benchmarks.Serving.ServingBenchmark.RunAsync(options);
        break;
    case "gpu-telemetry":
        await GpuTelemetryBenchmark.RunAsync(options);
        break;
    case "trivial-upstream":
        // Started by the portal's supervisor (through the serving benchmark's Python shim), not by hand.
        await Portal.Benchmarks.Serving.Upstreams.TrivialAsync();
        break;
    case "all":
        await DatasetIngestBenchmark.RunAsync(options);
        await LineageClosureBenchmark.RunAsync(options);
        await OpenLineageBenchmark.RunAsync(options);
        await TrackingBenchmark.IngestAsync(options);
        await TrackingBenchmark.SearchAsync(options);
        await TrackingBenchmark.HistoryAsync(options);
        await MlflowPeerBenchmark.RunAsync(options);
        await Portal.Benchmarks.Serving.ServingBenchmark.RunAsync(options);
        await GpuTelemetryBenchmark.RunAsync(options);
        break;
    default:
        Console.WriteLine("""
            usage: dotnet run -c Release -- <benchmark> [options]
              dataset-ingest   [--rows 10000000] [--csv file] [--keep] [--no-pandas]   ingest + profile + validate a generated CSV, against pandas
              lineage-closure  [--nodes 100000] [--queries 500]  upstream/downstream closure on a generated graph
              openlineage      [--events 20]  OpenLineage events of 10 to 5,000 inputs: checked and written in bulk, cost per edge
              tracking-ingest  [--batches 500]  MLflow log-batch of 1,000-point batches into one run
              runs-search      [--runs 100000] [--queries 200]  search 100k runs (20 metrics, 20 params) by metric, filter, page
              metric-history   [--points 1000000] [--reads 100]  a 1M-point series read for a chart (≤ 1,000 points)
              mlflow-peer      [--runs 10000] [--points 100000] [--batches 100] [--keep]  the portal and MLflow 2.12.2's server side by side,
                               same MLflow client: log-batch, runs/search, get-history, log_model + register_model, client_flow.py's answers
              serving          [--seconds 30] [--keep]  gateway overhead at 200/500/1000 req/s against the same model server direct; most req/s
                               through the gateway to a trivial upstream, HttpClient vs YARP forwarding; model server capacity (1 and 100 rows,
                               p99 < 50 ms); split accuracy over 10,000 requests at 90/10; drift over a 100,000-row window
              gpu-telemetry    [--gpus 1000] [--seconds 60] [--postgres <connection string>]  ingest of a GPU fleet at 1 sample/GPU/s (SQLite, and
                               PostgreSQL when given) with its headroom; fleet heatmap 64 GPUs × 7 days; cost by team over a year of 100 GPUs; bytes per sample
              all              every benchmark
            """);
        Environment.ExitCode = 2;
        break;
}
