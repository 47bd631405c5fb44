using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Yarp.ReverseProxy.Forwarder;

namespace Portal.Benchmarks.Serving;

/// <summary>
/// Servers the serving benchmark needs besides the portal: a trivial upstream that answers like a model server
/// (health probes, one prediction per row, no model work), and two forwarders in front of it — the gateway's way
/// (a pooled HttpClient that reads the body and the answer) and YARP's <see cref="IHttpForwarder"/> (streaming).
/// </summary>
internal static class Upstreams
{
    private static readonly byte[] OnePrediction = Encoding.UTF8.GetBytes("{\"predictions\":[0.5]}");

    /// <summary>The trivial upstream, started by the portal's supervisor in place of a model server: <c>Benchmarks trivial-upstream</c>.</summary>
    public static async Task TrivialAsync()
    {
        var port = int.Parse(Environment.GetEnvironmentVariable("PORT") ?? "0", System.Globalization.CultureInfo.InvariantCulture);
        await using var app = Build(port);
        MapTrivial(app);
        await app.RunAsync();
    }

    public static WebApplication Build(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port));
        builder.Services.AddHttpForwarder();
        return builder.Build();
    }

    public static void MapTrivial(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/health/ready", () => Results.Ok());
        app.MapGet("/health/live", () => Results.Ok());
        app.MapPost("/score", async (HttpContext context) =>
        {
            // Drained, not parsed: the upstream does no model work, so what is measured is what is in front of it.
            await context.Request.Body.CopyToAsync(Stream.Null);
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = OnePrediction.Length;
            await context.Response.Body.WriteAsync(OnePrediction);
        });
    }

    /// <summary>Both forwarders on one server: <c>/client</c> (pooled HttpClient, buffered like the gateway) and <c>/yarp</c> (IHttpForwarder).</summary>
    public static WebApplication Forwarders(int port, Uri upstream)
    {
        var app = Build(port);
        var client = new HttpClient(new SocketsHttpHandler { UseProxy = false, UseCookies = false, MaxConnectionsPerServer = 4096, AllowAutoRedirect = false });
        var invoker = new HttpMessageInvoker(new SocketsHttpHandler { UseProxy = false, UseCookies = false, AllowAutoRedirect = false, MaxConnectionsPerServer = 4096 });
        app.MapPost("/client", async (HttpContext context) =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer);
            using var content = new ByteArrayContent(buffer.ToArray());
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await client.PostAsync(new Uri(upstream, "score"), content);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            context.Response.StatusCode = (int)response.StatusCode;
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(bytes);
        });
        app.MapPost("/yarp", async (HttpContext context, IHttpForwarder forwarder) =>
        {
            context.Request.Path = "/score";
            await forwarder.SendAsync(context, upstream.ToString().TrimEnd('/'), invoker, ForwarderRequestConfig.Empty, HttpTransformer.Default);
        });
        return app;
    }
}
