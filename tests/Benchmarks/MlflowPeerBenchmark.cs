using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Portal.Benchmarks;

/// <summary>
/// The portal and MLflow 2.12.2's own tracking server (../shared/peers) side by side in one run: the same
/// real MLflow client (Mlflow/tracking_figures.py) measures log-batch, runs/search, get-history and
/// log_model + register_model against each and the ratios are printed; then the compatibility script
/// (tests/E2E/Mlflow/client_flow.py) runs against both and every answer that differs is listed.
/// </summary>
internal static class MlflowPeerBenchmark
{
    private const string Password = "Bench-Demo-Passw0rd!";

    public static async Task RunAsync(string[] args)
    {
        var root = RepositoryRoot();
        var peer = Path.GetFullPath(Path.Combine(root, "..", "shared", "peers", "mlflow-2.12.2"));
        if (!Directory.Exists(Path.Combine(peer, "mlflow")))
        {
            throw new InvalidOperationException($"The MLflow peer is missing at {peer}.");
        }

        var figureArgs = new[] { "--runs", Options.Long(args, "--runs", 10_000).ToString(CultureInfo.InvariantCulture),
            "--points", Options.Long(args, "--points", 100_000).ToString(CultureInfo.InvariantCulture),
            "--batches", Options.Long(args, "--batches", 100).ToString(CultureInfo.InvariantCulture) };
        var work = Path.Combine(Path.GetTempPath(), $"mlflow-peer-{Guid.NewGuid():N}");
        Directory.CreateDirectory(work);
        var portalUrl = $"http://127.0.0.1:{FreePort()}";
        var peerUrl = $"http://127.0.0.1:{FreePort()}";
        // Servers' output is drained into a log file: an unread pipe fills up and stalls the server mid-request.
        using var portal = Serve(Path.Combine(work, "portal.log"), "dotnet", [PortalDll(root), "--urls", portalUrl], Path.GetDirectoryName(PortalDll(root))!, new()
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Portal__DataDirectory"] = Path.Combine(work, "portal"),
            ["Portal__Demo__Password"] = Password,
        });
        using var server = Serve(Path.Combine(work, "mlflow-server.log"), "setsid", ["/usr/bin/python3", "-m", "mlflow", "server", "--backend-store-uri", $"sqlite:///{work}/mlflow.db",
            "--artifacts-destination", Path.Combine(work, "mlflow-artifacts"), "--host", "127.0.0.1", "--port", new Uri(peerUrl).Port.ToString(CultureInfo.InvariantCulture), "--workers", "4"],
            work, new() { ["PYTHONPATH"] = peer });
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"scientist@demo.local:{Password}")));
            await WaitAsync(http, $"{portalUrl}/api/v1/datasets/credit-risk", "the portal and its demo data");
            await WaitAsync(http, $"{peerUrl}/health", "the MLflow server");
            Console.WriteLine($"mlflow-peer: portal {portalUrl} (SQLite, demo data) and MLflow 2.12.2 server {peerUrl} (SQLite, 4 workers); load: {Uptime()}");

            var portalFigures = await FiguresAsync(root, peer, portalUrl, figureArgs, work);
            var peerFigures = await FiguresAsync(root, peer, peerUrl, figureArgs, work);
            Console.WriteLine($"{"figure (same MLflow client)",-44} {"portal",12} {"MLflow",12}  ratio");
            Row("log-batch, points/s (higher is better)", portalFigures, peerFigures, "log_batch_points_per_s", higherIsBetter: true);
            Row("create + log 1 run, runs/s (8 threads)", portalFigures, peerFigures, "runs_created_per_s", higherIsBetter: true);
            Row($"runs/search of {figureArgs[1]} runs by a metric, p50 ms", portalFigures, peerFigures, "runs_search_p50_ms", higherIsBetter: false);
            Row($"get-history of {figureArgs[3]} points, s", portalFigures, peerFigures, "get_history_s", higherIsBetter: false);
            Row("log_model, s", portalFigures, peerFigures, "log_model_s", higherIsBetter: false);
            Row("log_model + register_model until final, s", portalFigures, peerFigures, "log_model_and_register_s", higherIsBetter: false);
            Console.WriteLine($"  registered status: portal {portalFigures.GetProperty("registered_status")}, MLflow {peerFigures.GetProperty("registered_status")}"
                + (portalFigures.TryGetProperty("registration_refused", out var why) ? $" (portal: {why.GetString()})" : ""));

            // The compatibility script against both: behaviour side by side.
            var data = Path.Combine(work, "credit-risk.csv");
            await File.WriteAllBytesAsync(data, await http.GetByteArrayAsync($"{portalUrl}/api/v1/datasets/credit-risk/versions/1/content"));
            var model = $"flow-{Guid.NewGuid():N}"[..13];
            var portalFlow = await FlowAsync(root, peer, portalUrl, data, model, portal: true, work);
            var peerFlow = await FlowAsync(root, peer, peerUrl, data, model, portal: false, work);
            Console.WriteLine("client_flow.py (log, log_model, load_model, register_model, registry calls, protected alias) side by side:");
            foreach (var property in portalFlow.EnumerateObject().Where(p => p.Name != "seconds"))
            {
                var other = peerFlow.TryGetProperty(property.Name, out var value) ? value.ToString() : "(not asked)";
                var mark = other == property.Value.ToString() ? "same" : "DIFFERS";
                Console.WriteLine($"  {mark,-7} {property.Name}: portal {Clip(property.Value.ToString())} | MLflow {Clip(other)}");
            }

            foreach (var step in portalFlow.GetProperty("seconds").EnumerateObject())
            {
                var other = peerFlow.GetProperty("seconds").TryGetProperty(step.Name, out var v) ? v.GetDouble() : double.NaN;
                Console.WriteLine($"  seconds {step.Name,-16}: portal {step.Value.GetDouble(),7:0.000} | MLflow {other,7:0.000}");
            }

            Console.WriteLine($"mlflow-peer: done; load: {Uptime()}");
        }
        finally
        {
            Stop(portal);
            Stop(server);
            if (!Options.Flag(args, "--keep"))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    private static void Row(string name, JsonElement portal, JsonElement peer, string key, bool higherIsBetter)
    {
        var a = portal.GetProperty(key).GetDouble();
        var b = peer.GetProperty(key).GetDouble();
        var ratio = higherIsBetter ? a / b : b / a;
        Console.WriteLine($"  {name,-42} {a,12:N2} {b,12:N2}  {(ratio >= 1 ? $"portal {ratio:0.0}× faster" : $"portal {1 / ratio:0.0}× slower")}");
    }

    private static async Task<JsonElement> FiguresAsync(string root, string peer, string uri, string[] figureArgs, string work) =>
        await PythonAsync(peer, uri, [Path.Combine(root, "tests", "Benchmarks", "Mlflow", "tracking_figures.py"), .. figureArgs], work, "FIGURES ", []);

    private static async Task<JsonElement> FlowAsync(string root, string peer, string uri, string data, string model, bool portal, string work)
    {
        if (portal)
        {
            // As in the E2E test: the team's model has its own slice tolerance, set by an Admin before its first version.
            using var scientist = Client("scientist@demo.local");
            using var admin = Client("admin@demo.local");
            (await scientist.PostAsync($"{uri}/api/2.0/mlflow/registered-models/create", Json(new { name = model }))).EnsureSuccessStatusCode();
            (await admin.PutAsync($"{uri}/api/v1/models/{model}/policy", Json(new
            {
                checks = new { requiredMetrics = new Dictionary<string, double> { ["val_auc"] = 0.6 }, holdoutDataset = "credit-risk-holdout", target = "defaulted", metric = "auc", margin = 0.02, sliceColumn = "employment", maxSliceGap = 0.35, minSliceRows = 30 },
            }))).EnsureSuccessStatusCode();
        }

        string[] flowArgs = [Path.Combine(root, "tests", "E2E", "Mlflow", "client_flow.py"), "--data", data, "--model", model, "--source", $"{uri}/api/v1/datasets/credit-risk/versions/1/content", .. portal ? new[] { "--portal" } : []];
        return await PythonAsync(peer, uri, flowArgs, work, "RESULT ", new() { ["PORTAL_REVIEWERS"] = $"reviewer@demo.local:{Password},reviewer2@demo.local:{Password}" });
    }

    private static async Task<JsonElement> PythonAsync(string peer, string uri, string[] arguments, string work, string marker, Dictionary<string, string> extra)
    {
        var environment = new Dictionary<string, string>(extra)
        {
            ["PYTHONPATH"] = peer,
            ["MLFLOW_TRACKING_URI"] = uri,
            ["MLFLOW_TRACKING_USERNAME"] = "scientist@demo.local",
            ["MLFLOW_TRACKING_PASSWORD"] = Password,
            ["GIT_PYTHON_REFRESH"] = "quiet",
        };
        using var process = Start("/usr/bin/python3", arguments, work, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var line = (await stdout).Split('\n').LastOrDefault(l => l.StartsWith(marker, StringComparison.Ordinal));
        return line is null
            ? throw new InvalidOperationException($"{Path.GetFileName(arguments[0])} against {uri} exited {process.ExitCode}:\n{await stderr}")
            : JsonDocument.Parse(line[marker.Length..]).RootElement.Clone();
    }

    private static HttpClient Client(string user)
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{Password}")));
        return http;
    }

    private static StringContent Json(object body) => new(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json");

    private static Process Start(string file, IEnumerable<string> arguments, string directory, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        return Process.Start(start)!;
    }

    internal static Process Serve(string log, string file, IEnumerable<string> arguments, string directory, Dictionary<string, string> environment)
    {
        var process = Start(file, arguments, directory, environment);
        var writer = new StreamWriter(log) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => Write(writer, e.Data);
        process.ErrorDataReceived += (_, e) => Write(writer, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Write(StreamWriter writer, string? line)
    {
        if (line is not null)
        {
            lock (writer)
            {
                writer.WriteLine(line);
            }
        }
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            // The MLflow server runs in its own session (setsid): its workers go with the group.
            using var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", "--", $"-{process.Id.ToString(CultureInfo.InvariantCulture)}"]) { RedirectStandardError = true })!;
            kill.WaitForExit();
            process.Kill(entireProcessTree: true);
        }
    }

    internal static async Task WaitAsync(HttpClient http, string url, string what)
    {
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await http.GetAsync(url)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not up yet.
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"{what} did not come up at {url}.");
    }

    internal static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "MlopsPortal.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("Run the benchmark from inside the repository.");
    }

#if DEBUG
    internal static string PortalDll(string root) => Path.Combine(root, "src", "Portal", "bin", "Debug", "net10.0", "Portal.dll");
#else
    internal static string PortalDll(string root) => Path.Combine(root, "src", "Portal", "bin", "Release", "net10.0", "Portal.dll");
#endif

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    internal static string Uptime() => File.Exists("/proc/loadavg") ? "load average " + string.Join(", ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static string Clip(string text) => text.Length <= 90 ? text : text[..87] + "…";
}
