using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;

namespace Portal.E2E.Fixtures;

/// <summary>
/// The built Portal.dll as its own process on a loopback port, as an operator runs it: started on a data
/// folder, its output kept, stopped politely or killed outright (the fault drills kill it with SIGKILL
/// and start it again on the same folder).
/// </summary>
public sealed class PortalProcess : IAsyncDisposable
{
    private readonly StringBuilder _log = new();
    private readonly Process _process;

    private PortalProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public int Id => _process.Id;

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts the portal on <paramref name="dataDirectory"/> with demo users whose password is <paramref name="password"/>.</summary>
    public static PortalProcess Start(string dataDirectory, string password, IReadOnlyDictionary<string, string>? settings = null, int? port = null)
    {
        var portalDll = Path.Combine(Metadata("PortalOutputDir"), "Portal.dll");
        if (!File.Exists(portalDll))
        {
            throw new InvalidOperationException($"The portal is not built at {portalDll}.");
        }

        var baseUrl = $"http://127.0.0.1:{port ?? FreePort()}";
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(portalDll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(portalDll);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(baseUrl);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Portal__DataDirectory"] = dataDirectory;
        start.Environment["Portal__Demo__Password"] = password;
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var portal = new PortalProcess(Process.Start(start)!, baseUrl);
        portal._process.OutputDataReceived += (_, e) => portal.Append(e.Data);
        portal._process.ErrorDataReceived += (_, e) => portal.Append(e.Data);
        portal._process.BeginOutputReadLine();
        portal._process.BeginErrorReadLine();
        return portal;
    }

    /// <summary>Waits until /healthz answers 200.</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan? within = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(90));
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The portal exited with code {_process.ExitCode} while starting:\n{Log}");
            }

            try
            {
                using var response = await http.GetAsync($"{BaseUrl}/healthz");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet, or still starting.
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The portal did not become healthy in time:\n{Log}");
    }

    /// <summary>Kills the portal at once (SIGKILL): no shutdown, no flushing — what a crash or the OOM killer does.</summary>
    public async Task KillAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
            await _process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    internal static string Metadata(string key) =>
        typeof(PortalProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_log)
            {
                _log.AppendLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
