using System.Diagnostics;
using System.Globalization;
using System.Text;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Datasets.Ingestion;
using Portal.Infrastructure.Storage;

namespace Portal.Benchmarks;

/// <summary>
/// Issue 3: ingest + profile + validate a ~1 GB CSV (10M rows × 10 columns) in one streaming pass with
/// bounded memory, side by side with pandas.read_csv(...).describe() on the same file.
/// </summary>
internal static class DatasetIngestBenchmark
{
    public static async Task RunAsync(string[] args)
    {
        var rows = Options.Long(args, "--rows", 10_000_000);
        var folder = Path.Combine(Path.GetTempPath(), $"portal-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        var csv = Path.Combine(folder, "bench.csv");
        try
        {
            var watch = Stopwatch.StartNew();
            var given = args.SkipWhile(a => a != "--csv").Skip(1).FirstOrDefault();
            long bytes;
            if (given is not null)
            {
                csv = given;
                bytes = new FileInfo(csv).Length;
                Console.WriteLine($"using {csv}, {bytes / 1e9:0.000} GB");
            }
            else
            {
                bytes = Generate(csv, rows);
                Console.WriteLine($"generated {rows:N0} rows × 10 columns, {bytes / 1e9:0.000} GB in {watch.Elapsed.TotalSeconds:0.0} s");
            }

            // Profile and validate against a contract (as for a second version) and drift against a first profile.
            var first = await IngestAsync(csv, folder, null, null, quiet: true);
            var contract = Portal.Domain.Datasets.DataContract.Create(first.File.ProposedContract, null, Portal.Domain.Common.Actor.System, TimeProvider.System);

            GC.Collect();
            Options.ResetPeakRss();
            var run = await IngestAsync(csv, folder, contract, new DriftReference(1, first.File.Profile), quiet: false);
            var portalSeconds = run.Seconds;
            Console.WriteLine($"portal: ingest + profile + validate + drift   {portalSeconds,7:0.00} s   {bytes / 1e6 / portalSeconds,7:0} MB/s   peak RSS {run.PeakRssMb,6:0} MiB   CPU {run.CpuSeconds:0.00} s on {Environment.ProcessorCount} cores");
            Console.WriteLine($"        rows {run.File.Rows:N0}, columns {run.File.Schema.Count}, checks failed {run.File.Validation.Failures.Count}, status {run.File.Validation.Status}");

            if (Options.Flag(args, "--no-pandas"))
            {
                return;
            }

            var (pandasSeconds, pandasRss) = Pandas(csv);
            Console.WriteLine($"pandas: read_csv(...).describe()              {pandasSeconds,7:0.00} s   {bytes / 1e6 / pandasSeconds,7:0} MB/s   peak RSS {pandasRss,6:0} MiB");
            Console.WriteLine($"speed-up over pandas: {pandasSeconds / portalSeconds:0.00}× (goal ≥ 2×)");
        }
        finally
        {
            if (!Options.Flag(args, "--keep"))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    private static async Task<(IngestedFile File, double Seconds, double PeakRssMb, double CpuSeconds)> IngestAsync(
        string csv, string folder, Portal.Domain.Datasets.DataContract? contract, DriftReference? reference, bool quiet)
    {
        var store = new LocalArtifactStore(new DataDirectory(Path.Combine(folder, "data")));
        var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var watch = Stopwatch.StartNew();
        await using var input = new FileStream(csv, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20, FileOptions.SequentialScan | FileOptions.Asynchronous);
        await using var upload = await store.BeginUploadAsync(CancellationToken.None);
        var file = await new DatasetIngestor().IngestAsync(input, "bench.csv", upload, contract, reference, long.MaxValue, CancellationToken.None);
        var stored = await upload.CommitAsync(CancellationToken.None);
        var seconds = watch.Elapsed.TotalSeconds;
        var cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
        if (!quiet)
        {
            Console.WriteLine($"        stored as sha256 {stored.Hash[..16]}… ({stored.Size:N0} bytes)");
        }

        await store.DeleteAsync(stored.Hash, CancellationToken.None);
        return (file, seconds, Options.PeakRssMb(), cpu);
    }

    private static (double Seconds, double PeakRssMb) Pandas(string csv)
    {
        const string script = """
            import sys, time, resource, pandas
            t = time.time()
            pandas.read_csv(sys.argv[1]).describe()
            print(time.time() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            """;
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(csv);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException("pandas failed: " + error);
        }

        var parts = output.Trim().Split(' ');
        return (double.Parse(parts[0], CultureInfo.InvariantCulture), double.Parse(parts[1], CultureInfo.InvariantCulture));
    }

    /// <summary>A credit-like table: id, age, income, score, city, segment, active, signup date, balance, e-mail (~100 bytes a row).</summary>
    private static long Generate(string path, long rows)
    {
        string[] cities = ["Berlin", "Paris", "Madrid", "Rome", "Vienna", "Lisbon", "Dublin", "Prague", "Warsaw", "Oslo"];
        string[] names = ["anna", "ben", "carla", "dave", "eva"];
        var random = new Random(7);
        var epoch = new DateOnly(2015, 1, 1);
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        writer.Write("id,age,income,score,city,segment,active,signup,balance,email\n");
        var line = new StringBuilder(160);
        for (long i = 0; i < rows; i++)
        {
            var income = Math.Exp(10.5 + (0.6 * Normal(random)));
            line.Clear()
                .Append(i).Append(',')
                .Append(random.Next(18, 90)).Append(',')
                .Append(income.ToString("0.00", CultureInfo.InvariantCulture)).Append(',')
                .Append((0.5 + (0.15 * Normal(random))).ToString("0.000000", CultureInfo.InvariantCulture)).Append(',')
                .Append(cities[random.Next(cities.Length)]).Append(',')
                .Append((char)('A' + random.Next(3))).Append(',')
                .Append(random.NextDouble() < 0.7 ? "true" : "false").Append(',')
                .Append(epoch.AddDays(random.Next(3650)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)).Append(',')
                .Append((1000 + (400 * Normal(random))).ToString("0.00", CultureInfo.InvariantCulture)).Append(',')
                .Append(names[random.Next(names.Length)]).Append(".client.").Append(i).Append("@example-retail-bank.co.uk\n");
            writer.Write(line);
        }

        writer.Flush();
        return new FileInfo(path).Length;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
