using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.Domain.Identity;
using Portal.Domain.Models;
using Portal.Domain.Ports;
using Portal.Infrastructure;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Serving;

namespace Portal.Benchmarks.Serving;

/// <summary>
/// The deployments issue's figures, on one real portal process and real model servers (loopback, this machine):
/// gateway overhead against the same model server called directly at fixed rates; the most the gateway passes
/// to a trivial upstream, and the gateway's forwarding (pooled HttpClient) against YARP's; a model server's
/// capacity for 1- and 100-row requests of a demo-sized model with p99 under 50 ms; the observed split of
/// 10,000 requests at 90/10; and drift over a 100,000-request window. Model servers run without the sandbox
/// here (Portal:Isolation off) so the trivial upstream can be this program; isolation is not what is measured.
/// </summary>
internal static class ServingBenchmark
{
    private const string Password = "Bench-Demo-Passw0rd!";
    private const string DemoRow = """{"age":41,"annual_income":52000.5,"loan_amount":15000.0,"term_months":36,"credit_score":680,"employment":"salaried","home_ownership":"rent"}""";

    public static async Task RunAsync(string[] args)
    {
        var seconds = (int)Options.Long(args, "--seconds", 30);
        var root = MlflowPeerBenchmark.RepositoryRoot();
        var work = Path.Combine(Path.GetTempPath(), $"serving-bench-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        var data = Path.Combine(work, "portal");
        var shim = Path.Combine(work, "python-shim.sh");
        // The supervisor starts "<python> model_server.py"; models whose file is named trivial get this program's trivial upstream instead.
        await File.WriteAllTextAsync(shim, $"#!/bin/sh\ncase \"$MODEL_PATH\" in *trivial*) exec /usr/bin/dotnet '{typeof(ServingBenchmark).Assembly.Location}' trivial-upstream ;; esac\nexec /usr/bin/python3 \"$@\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(shim, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        }

        var portalUrl = new Uri($"http://127.0.0.1:{MlflowPeerBenchmark.FreePort()}/");
        using var portal = MlflowPeerBenchmark.Serve(Path.Combine(work, "portal.log"), "dotnet", [MlflowPeerBenchmark.PortalDll(root), "--urls", portalUrl.ToString().TrimEnd('/')],
            Path.GetDirectoryName(MlflowPeerBenchmark.PortalDll(root))!, new()
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Portal__DataDirectory"] = data,
                ["Portal__Demo__Password"] = Password,
                ["Portal__Demo__RunSamples"] = "false",
                ["Portal__Demo__GeneratedRuns"] = "0",
                ["Portal__Deployments__SampleTraffic__Enabled"] = "false",
                ["Portal__Deployments__StopInstancesOnShutdown"] = "true",
                ["Portal__Deployments__SampleRate"] = "0.01",
                ["Portal__Local__Python"] = shim,
                ["Portal__Isolation__Sandbox"] = "None",
                ["Portal__Isolation__User"] = "",
                ["Logging__LogLevel__Default"] = "Warning",
            });
        try
        {
            using var ops = new HttpClient { BaseAddress = portalUrl, Timeout = TimeSpan.FromSeconds(60) };
            ops.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"ops@demo.local:{Password}")));
            await MlflowPeerBenchmark.WaitAsync(ops, $"{portalUrl}api/v1/datasets/credit-risk", "the portal and its demo data");
            Console.WriteLine($"serving: portal {portalUrl} (SQLite), {System.Environment.ProcessorCount} cores; {MlflowPeerBenchmark.Uptime()} at start");

            await using (var services = Compose(data))
            {
                await ApproveAsync(services, "doubler", await FolderAsync(services, Doubler), "model", [new ColumnSchema("x", ColumnType.Float, false)], mlflow: true);
                await ApproveAsync(services, "trivial", await StoreAsync(services, Encoding.UTF8.GetBytes("trivial upstream")), "outputs/trivial.bin", [new ColumnSchema("x", ColumnType.Float, false)], mlflow: false);
                await ApproveAsync(services, "demo-gbm", await StoreAsync(services, await TrainDemoModelAsync(work)), "outputs/model.pkl", DemoSignature, mlflow: false, training: "dataset:credit-risk:1");
            }

            var overheadKey = await DeployAsync(ops, "overhead", ("blue", "doubler", 100));
            var trivialKey = await DeployAsync(ops, "trivial", ("blue", "trivial", 100));
            var splitKey = await DeployAsync(ops, "split", ("ninety", "trivial", 90), ("ten", "trivial", 10));
            await DeployAsync(ops, "demo", ("blue", "demo-gbm", 100));
            var doublerDirect = await DirectAsync(ops, "overhead");
            var trivialDirect = await DirectAsync(ops, "trivial");
            var demoDirect = await DirectAsync(ops, "demo");

            await OverheadAsync(doublerDirect, new Uri(portalUrl, "score/overhead"), overheadKey, seconds);
            await ThroughputAsync(trivialDirect, new Uri(portalUrl, "score/trivial"), trivialKey);
            await ModelServerAsync(demoDirect);
            await SplitAsync(new Uri(portalUrl, "score/split"), splitKey);
            await DriftAsync(data);
            Console.WriteLine($"serving: {MlflowPeerBenchmark.Uptime()} at end");
        }
        finally
        {
            portal.Kill(entireProcessTree: true);
            await portal.WaitForExitAsync();
            if (!Options.Flag(args, "--keep"))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    private static async Task OverheadAsync(Uri direct, Uri gateway, string key, int seconds)
    {
        var body = LoadGenerator.Rows("""{"x":1.5}""", 1);
        using var plain = LoadGenerator.Client(null);
        using var keyed = LoadGenerator.Client(key);
        await LoadGenerator.OpenLoopAsync(plain, direct, body, 100, TimeSpan.FromSeconds(3));
        await LoadGenerator.OpenLoopAsync(keyed, gateway, body, 100, TimeSpan.FromSeconds(3));
        Console.WriteLine($"\nA. Gateway overhead: the same model server (Python, a one-line pyfunc model) direct and through POST /score, open loop, {seconds} s per rate, 1 row");
        Console.WriteLine($"{"rate/s",8} {"direct p50",11} {"direct p99",11} {"gateway p50",12} {"gateway p99",12} {"added p50",10} {"added p99",10}  failed (direct/gateway)");
        foreach (var rate in new[] { 200, 500, 1000 })
        {
            var d = await LoadGenerator.OpenLoopAsync(plain, direct, body, rate, TimeSpan.FromSeconds(seconds));
            var g = await LoadGenerator.OpenLoopAsync(keyed, gateway, body, rate, TimeSpan.FromSeconds(seconds));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{rate,8} {d.P50Ms,9:0.00}ms {d.P99Ms,9:0.00}ms {g.P50Ms,10:0.00}ms {g.P99Ms,10:0.00}ms {g.P50Ms - d.P50Ms,8:0.00}ms {g.P99Ms - d.P99Ms,8:0.00}ms  {d.Failed}/{g.Failed}"));
        }
    }

    private static async Task ThroughputAsync(Uri direct, Uri gateway, string key)
    {
        var body = LoadGenerator.Rows("""{"x":1.5}""", 1);
        using var plain = LoadGenerator.Client(null);
        using var keyed = LoadGenerator.Client(key);
        Console.WriteLine("\nB. Most requests/s to a trivial upstream (closed loop, 64 callers, 15 s, 1 row; everything on this machine's cores)");
        await LoadGenerator.ClosedLoopAsync(keyed, gateway, body, 64, TimeSpan.FromSeconds(3));
        var d = await LoadGenerator.ClosedLoopAsync(plain, direct, body, 64, TimeSpan.FromSeconds(15));
        var g = await LoadGenerator.ClosedLoopAsync(keyed, gateway, body, 64, TimeSpan.FromSeconds(15));
        Print("trivial upstream, direct", d);
        Print("through the portal's /score (key auth)", g);

        var port = MlflowPeerBenchmark.FreePort();
        await using var forwarders = Upstreams.Forwarders(port, direct.GetLeftPart(UriPartial.Authority) is var authority ? new Uri(authority + "/") : direct);
        await forwarders.StartAsync();
        var forwarding = new Uri($"http://127.0.0.1:{port}/");
        await LoadGenerator.ClosedLoopAsync(plain, new Uri(forwarding, "client"), body, 64, TimeSpan.FromSeconds(3));
        await LoadGenerator.ClosedLoopAsync(plain, new Uri(forwarding, "yarp"), body, 64, TimeSpan.FromSeconds(3));
        var client = await LoadGenerator.ClosedLoopAsync(plain, new Uri(forwarding, "client"), body, 64, TimeSpan.FromSeconds(15));
        var yarp = await LoadGenerator.ClosedLoopAsync(plain, new Uri(forwarding, "yarp"), body, 64, TimeSpan.FromSeconds(15));
        Print("forwarder alone: pooled HttpClient, buffered", client);
        Print("forwarder alone: YARP IHttpForwarder", yarp);
        await forwarders.StopAsync();
    }

    private static async Task ModelServerAsync(Uri direct)
    {
        using var plain = LoadGenerator.Client(null);
        Console.WriteLine("\nC. One model server instance of a demo-sized model (gradient boosting, 80 trees of depth 4), direct, open loop 10 s per rate");
        foreach (var rows in new[] { 1, 100 })
        {
            var body = LoadGenerator.Rows(DemoRow, rows);
            await LoadGenerator.OpenLoopAsync(plain, direct, body, 20, TimeSpan.FromSeconds(2));
            var best = 0;
            foreach (var rate in new[] { 25, 50, 100, 150, 200, 300, 400, 600, 800, 1200 })
            {
                var r = await LoadGenerator.OpenLoopAsync(plain, direct, body, rate, TimeSpan.FromSeconds(10));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {rows,3} row(s) at {rate,5}/s: p50 {r.P50Ms,7:0.00} ms, p99 {r.P99Ms,8:0.00} ms, failed {r.Failed}"));
                if (r.P99Ms >= 50 || r.Failed > 0)
                {
                    break;
                }

                best = rate;
            }

            Console.WriteLine($"  => {rows} row(s): {best} requests/s ({best * rows:N0} rows/s) with p99 under 50 ms");
        }
    }

    private static async Task SplitAsync(Uri gateway, string key)
    {
        using var keyed = LoadGenerator.Client(key);
        var body = LoadGenerator.Rows("""{"x":1.5}""", 1);
        var counts = new Dictionary<string, int>();
        var sent = 0;
        while (sent < 10_000)
        {
            var r = await LoadGenerator.ClosedLoopAsync(keyed, gateway, body, 16, TimeSpan.FromSeconds(1));
            foreach (var (by, n) in r.AnsweredBy)
            {
                counts[by] = counts.GetValueOrDefault(by) + n;
            }

            sent = counts.Values.Sum();
        }

        var b = 100.0 * counts.GetValueOrDefault("ten") / sent;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\nD. Split at 90/10 over {sent:N0} requests: ninety {100.0 * counts.GetValueOrDefault("ninety") / sent:0.00} %, ten {b:0.00} % (off by {Math.Abs(b - 10):0.00} points; goal within 1.5)"));
    }

    private static async Task DriftAsync(string data)
    {
        await using var services = Compose(data);
        DatasetProfile profile;
        await using (var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync())
        {
            var dataset = await db.Datasets.AsNoTracking().FirstAsync(d => d.Name == "credit-risk");
            profile = (await db.DatasetVersions.AsNoTracking().FirstAsync(v => v.DatasetId == dataset.Id && v.Number == 1)).Profile;
        }

        var rows = DemoRows().ToList();
        Options.ResetPeakRss();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var window = new InputWindow(100_000);
        window.Configure(DemoSignature);
        var now = DateTime.UtcNow;
        var fill = Stopwatch.StartNew();
        for (var i = 0; i < 100_000; i += 4)
        {
            using var request = JsonDocument.Parse("[" + string.Join(",", rows.Skip(i % (rows.Count - 4)).Take(4)) + "]");
            window.Append(now, request.RootElement);
        }

        fill.Stop();
        var held = GC.GetTotalMemory(forceFullCollection: true) - before;
        var times = new List<double>();
        DriftReport? report = null;
        for (var run = 0; run < 5; run++)
        {
            var watch = Stopwatch.StartNew();
            var snapshot = window.Snapshot(now.AddMinutes(-15));
            report = LiveDrift.Compute(snapshot, profile, "dataset:credit-risk:1", null, new Dictionary<string, long>(), 0.1, 200, 15, now);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\nE. Drift over a 100,000-row window ({DemoSignature.Count} features): appending the rows {fill.Elapsed.TotalMilliseconds / 100_000 * 1000:0.00} µs per row; snapshot + drift {times[2]:0} ms (median of 5), window holds {held / 1024.0 / 1024.0:0.0} MiB; peak RSS {Options.PeakRssMb():0} MiB; max score {report!.MaxScore:0.000} over {report.Rows:N0} rows"));
    }

    private static void Print(string what, LoadResult r) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"  {what,-44} {r.PerSecond,9:N0} req/s   p50 {r.P50Ms,6:0.00} ms   p99 {r.P99Ms,7:0.00} ms   failed {r.Failed}"));

    /// <summary>Creates the endpoint with the given deployments (quick probes) and waits until all are healthy; returns its primary key.</summary>
    private static async Task<string> DeployAsync(HttpClient ops, string endpoint, params (string Name, string Model, int Traffic)[] deployments)
    {
        var response = await ops.PutAsJsonAsync($"api/v1/endpoints/{endpoint}", new
        {
            deployments = deployments.Select(d => new
            {
                name = d.Name, model = d.Model, version = 1, traffic = d.Traffic, instanceCount = 1, maxConcurrentRequestsPerInstance = 1000, maxQueueWaitMs = 5000,
                requestTimeoutMs = 30_000, readiness = new { initialDelaySeconds = 0, periodSeconds = 1 },
            }),
        });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Deploying {endpoint} failed: {body}");
        }

        var until = DateTime.UtcNow.AddSeconds(120);
        while ((await ops.GetFromJsonAsync<JsonElement>($"api/v1/endpoints/{endpoint}")).GetProperty("deployments").EnumerateArray().Any(d => d.GetProperty("state").GetString() != "Healthy"))
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"{endpoint} did not become healthy: {await ops.GetStringAsync($"api/v1/endpoints/{endpoint}")}");
            }

            await Task.Delay(250);
        }

        return body.GetProperty("keys").GetProperty("primary").GetString()!;
    }

    private static async Task<Uri> DirectAsync(HttpClient ops, string endpoint)
    {
        var found = await ops.GetFromJsonAsync<JsonElement>($"api/v1/endpoints/{endpoint}");
        var port = found.GetProperty("deployments")[0].GetProperty("instances")[0].GetProperty("port").GetInt32();
        return new Uri($"http://127.0.0.1:{port}/score");
    }

    private static readonly IReadOnlyList<ColumnSchema> DemoSignature =
    [
        new("age", ColumnType.Integer, false), new("annual_income", ColumnType.Float, false), new("loan_amount", ColumnType.Float, false),
        new("term_months", ColumnType.Integer, false), new("credit_score", ColumnType.Integer, false), new("employment", ColumnType.Categorical, false),
        new("home_ownership", ColumnType.Categorical, false),
    ];

    private const string Doubler = "class Model:\n    def predict(self, frame):\n        return [float(v) * 2 for v in frame[\"x\"]]\n\ndef _load_pyfunc(path):\n    return Model()\n";

    private static IEnumerable<string> DemoRows()
    {
        using var content = typeof(PortalInitializer).Assembly.GetManifestResourceStream("demo/credit-risk-2026-09.csv")!;
        using var reader = new StreamReader(content);
        var header = reader.ReadLine()!.Split(',');
        var wanted = DemoSignature.Select(c => (c, Array.IndexOf(header, c.Name))).ToList();
        while (reader.ReadLine() is { } line)
        {
            var fields = line.Split(',');
            if (wanted.Any(w => fields[w.Item2].Length == 0))
            {
                continue;
            }

            yield return "{" + string.Join(",", wanted.Select(w => $"\"{w.c.Name}\":" + (w.c.Type.IsNumeric() ? fields[w.Item2] : $"\"{fields[w.Item2]}\""))) + "}";
        }
    }

    private static async Task<byte[]> TrainDemoModelAsync(string work)
    {
        var csv = Path.Combine(work, "credit-risk.csv");
        await using (var content = typeof(PortalInitializer).Assembly.GetManifestResourceStream("demo/credit-risk-2026-09.csv")!)
        await using (var file = File.Create(csv))
        {
            await content.CopyToAsync(file);
        }

        var model = Path.Combine(work, "model.pkl");
        const string Train = """
            import pickle, sys
            import pandas as pd
            from sklearn.ensemble import GradientBoostingClassifier
            f = pd.read_csv(sys.argv[1]).dropna(subset=["defaulted"])
            num = ["age", "annual_income", "loan_amount", "term_months", "credit_score"]; cat = ["employment", "home_ownership"]
            x = pd.get_dummies(f[num + cat], columns=cat, dtype=float); x[num] = x[num].fillna(x[num].median())
            y = f["defaulted"].astype(str).str.lower().isin(["true", "1", "yes"]).astype(int)
            m = GradientBoostingClassifier(n_estimators=80, max_depth=4, learning_rate=0.05, random_state=7).fit(x, y)
            pickle.dump({"model": m, "columns": list(x.columns)}, open(sys.argv[2], "wb"))
            """;
        using var python = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", Train, csv, model]) { UseShellExecute = false })!;
        await python.WaitForExitAsync();
        return python.ExitCode == 0 ? await File.ReadAllBytesAsync(model) : throw new InvalidOperationException("Training the demo-sized model failed.");
    }

    /// <summary>The portal's own services on its data folder (no hosted services run): to put approved models in place.</summary>
    private static ServiceProvider Compose(string data)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Portal:DataDirectory"] = data }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddInfrastructure(configuration, new Environment(Path.GetTempPath()));
        return services.BuildServiceProvider();
    }

    private static async Task<string> FolderAsync(IServiceProvider services, string loader)
    {
        var files = new Dictionary<string, byte[]>
        {
            ["MLmodel"] = Encoding.UTF8.GetBytes("flavors:\n  python_function:\n    loader_module: benchmodel\n    code: code\n"),
            ["code/benchmodel.py"] = Encoding.UTF8.GetBytes(loader),
        };
        var lines = new List<string>();
        foreach (var (path, bytes) in files)
        {
            lines.Add($"{await StoreAsync(services, bytes)} {bytes.Length} {path}");
        }

        return await StoreAsync(services, Encoding.UTF8.GetBytes(string.Concat(lines.Order(StringComparer.Ordinal).Select(l => l + "\n"))));
    }

    private static async Task<string> StoreAsync(IServiceProvider services, byte[] bytes)
    {
        await using var upload = await services.GetRequiredService<IArtifactStore>().BeginUploadAsync(CancellationToken.None);
        await upload.WriteAsync(bytes, CancellationToken.None);
        return (await upload.CommitAsync(CancellationToken.None)).Hash;
    }

    private static async Task ApproveAsync(IServiceProvider services, string model, string hash, string path, IReadOnlyList<ColumnSchema> signature, bool mlflow, string? training = null)
    {
        var time = TimeProvider.System;
        var author = new Actor("scientist@demo.local", [Roles.DataScientist]);
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        db.RegisteredModels.Add(RegisteredModel.Create(model, author, time));
        var version = ModelVersion.Register(model, 1, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), path, hash, author, time,
            new ModelVersionFacts(new Dictionary<string, double>(), signature, training is null ? [] : [training], Mlflow: mlflow ? new MlflowModelFacts(["python_function"], null) : null));
        version.PassValidation(time);
        version.RequestApproval(time);
        version.Approve(time);
        db.ModelVersions.Add(version);
        await db.SaveChangesAsync();
    }

    private sealed class Environment(string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Benchmark";

        public string ApplicationName { get; set; } = "Portal.Benchmarks";

        public string ContentRootPath { get; set; } = root;

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
