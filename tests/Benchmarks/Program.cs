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
    case "all":
        await DatasetIngestBenchmark.RunAsync(options);
        await LineageClosureBenchmark.RunAsync(options);
        break;
    default:
        Console.WriteLine("""
            usage: dotnet run -c Release -- <benchmark> [options]
              dataset-ingest   [--rows 10000000] [--csv file] [--keep] [--no-pandas]   ingest + profile + validate a generated CSV, against pandas
              lineage-closure  [--nodes 100000] [--queries 500]  upstream/downstream closure on a generated graph
              all              both
            """);
        Environment.ExitCode = 2;
        break;
}
