using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Datasets;
using Portal.UnitTests.Api;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Deployments;

/// <summary>
/// A portal for serving tests: demo users and datasets but no sample training jobs, model servers stopped
/// with the portal, quick probes. Its helpers deploy approved test models and wait for their health.
/// </summary>
public class ServingPortal : PortalFactory
{
    public ServingPortal()
    {
        With("Portal:Demo:RunSamples", "false");
        With("Portal:Deployments:StopInstancesOnShutdown", "true");
        With("Portal:Deployments:OrphanGraceSeconds", "30");
        With("Portal:Deployments:CrashLoopRestarts", "3");
        With("Portal:Deployments:MaxRestartBackoffSeconds", "2");
        With("Portal:Deployments:EjectAfterFailures", "3");
        With("Portal:Deployments:AlertEvaluationSeconds", "1");
        With("Portal:Deployments:SampleRate", "1");
    }

    public HttpClient Ops => ClientFor("ops@demo.local");

    /// <summary>Probe settings that make a test instance ready within a second or two.</summary>
    public static object QuickProbe => new { initialDelaySeconds = 0, periodSeconds = 1, timeoutSeconds = 5, failureThreshold = 10 };

    /// <summary>
    /// Where the artifact store keeps one file of a version's MLflow folder (<paramref name="path"/> inside it), or the
    /// folder's file list itself (<c>manifest</c>).
    /// </summary>
    public async Task<string> StoredFileAsync((string Model, int Version) version, string path)
    {
        var registry = Services.GetRequiredService<Portal.Infrastructure.Models.ModelRegistry>();
        var found = (await registry.FindVersionAsync(version.Model, version.Version, CancellationToken.None))!;
        var hash = path == "manifest" ? found.ArtifactHash : (await registry.BoundFilesAsync(found, CancellationToken.None)).Single(f => f.Path == path).Hash;
        return Path.Combine(DataDirectory, "artifacts", "sha256", hash[..2], hash);
    }

    /// <summary>A new approved pyfunc version of a fresh model, running <paramref name="loader"/>.</summary>
    public async Task<(string Model, int Version)> ApprovedAsync(string loader, IReadOnlyList<ColumnSchema>? signature = null, string? trainingDataset = null)
    {
        var model = $"m-{Guid.NewGuid():N}"[..14];
        var version = await ServedModels.ApprovedPyFuncAsync(Services, model, loader, signature, trainingDataset);
        return (model, version.Version);
    }

    /// <summary>PUTs an endpoint whose deployments take the given traffic; answers the API's JSON.</summary>
    public async Task<JsonElement> PutAsync(string endpoint, params object[] deployments)
    {
        var response = await Ops.PutAsJsonAsync($"/api/v1/endpoints/{endpoint}", new { deployments });
        return await response.JsonAsync(HttpStatusCode.Accepted);
    }

    public static object Deployment(string name, (string Model, int Version) version, int traffic, int instances = 1, int timeoutMs = 5000, int maxConcurrent = 4) =>
        new { name, model = version.Model, version = version.Version, traffic, instanceCount = instances, requestTimeoutMs = timeoutMs,
            maxConcurrentRequestsPerInstance = maxConcurrent, liveness = QuickProbe, readiness = QuickProbe };

    public async Task<JsonElement> EndpointAsync(string endpoint) => await (await Ops.GetAsync($"/api/v1/endpoints/{endpoint}")).JsonAsync();

    public static JsonElement DeploymentOf(JsonElement endpoint, string deployment) =>
        endpoint.GetProperty("deployments").EnumerateArray().Single(d => d.GetProperty("name").GetString() == deployment);

    /// <summary>Waits until the deployment is in <paramref name="state"/>; returns it.</summary>
    public async Task<JsonElement> WaitForStateAsync(string endpoint, string deployment, string state, int seconds = 60)
    {
        JsonElement found = default;
        var until = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            found = DeploymentOf(await EndpointAsync(endpoint), deployment);
            if (found.GetProperty("state").GetString() == state)
            {
                return found;
            }

            Assert.True(DateTime.UtcNow < until, $"{endpoint}/{deployment} did not become {state} in {seconds} s; it is {found}");
            await Task.Delay(200);
        }
    }

    public async Task<HttpResponseMessage> ScoreAsync(string endpoint, object body, HttpClient? client = null, string? pin = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/score/{endpoint}") { Content = JsonContent.Create(body) };
        if (pin is not null)
        {
            request.Headers.Add("azureml-model-deployment", pin);
        }

        return await (client ?? ClientFor("scientist@demo.local")).SendAsync(request);
    }

    internal static Task WaitUntilAsync(Func<Task<bool>> condition, string what) => JobsApiTests.WaitUntilAsync(condition, what);
}
