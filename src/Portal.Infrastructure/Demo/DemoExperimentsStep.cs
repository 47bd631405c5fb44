using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Identity;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Jobs;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Demo;

/// <summary>
/// Experiments: the sample training projects run as real jobs on the demo dataset (a few classifier runs
/// and a regressor run, with logs and model files), and a generated experiment of historical runs to show
/// the runs table at scale.
/// </summary>
public sealed partial class DemoExperimentsStep(ILogger<DemoExperimentsStep> logger) : IDemoSeedStep
{
    public const string HistoryExperiment = "credit-risk-history";
    public const string ClassifierExperiment = "credit-risk-classifier";
    public const string RegressorExperiment = "credit-risk-regressor";
    private const string ScientistName = "scientist@demo.local";
    private static readonly Actor Scientist = new(ScientistName, [Roles.DataScientist]);

    public string Name => "experiments";

    public int Order => 20;

    public bool BeforeStartup => false;

    public string Description => "Sample training jobs on the demo data, and an experiment of generated historical runs";

    public async Task RunAsync(DemoSeedContext context, CancellationToken cancellationToken)
    {
        var options = context.Services.GetRequiredService<IOptions<PortalOptions>>().Value.Demo;
        var store = context.Services.GetRequiredService<TrackingStore>();
        var time = context.Services.GetRequiredService<TimeProvider>();
        if (options.GeneratedRuns > 0)
        {
            // A retried step carries on after the batches already stored (each batch is one transaction).
            var already = await RunsInAsync(context.Services, HistoryExperiment, cancellationToken);
            await GenerateHistoryAsync(store, options.GeneratedRuns, time, cancellationToken, already.Count);
        }

        if (options.RunSamples)
        {
            await RunSamplesAsync(context.Services, cancellationToken);
        }
    }

    private async Task RunSamplesAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        // Jobs report to the portal over HTTP, so the server must be listening first.
        var lifetime = services.GetService<IHostApplicationLifetime>();
        if (lifetime is null)
        {
            LogNoAddress();
            return;
        }

        if (!lifetime.ApplicationStarted.IsCancellationRequested)
        {
            var started = new TaskCompletionSource();
            await using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
            await started.Task.WaitAsync(cancellationToken);
        }

        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        var configured = services.GetRequiredService<IOptions<PortalOptions>>().Value.Jobs.TrackingUri;
        if (string.IsNullOrEmpty(configured) && (addresses is null || addresses.Count == 0))
        {
            LogNoAddress();
            return;
        }

        var jobs = services.GetRequiredService<JobService>();
        var train = new Dictionary<string, string> { ["train"] = "dataset:credit-risk:1" };
        (string Experiment, string Script, string Name, Dictionary<string, string> Params)[] samples =
        [
            (ClassifierExperiment, "train_classifier.py", "gbm-shallow", new() { ["n_estimators"] = "40", ["max_depth"] = "2", ["learning_rate"] = "0.1" }),
            (ClassifierExperiment, "train_classifier.py", "gbm-baseline", new() { ["n_estimators"] = "60", ["max_depth"] = "3", ["learning_rate"] = "0.1" }),
            (ClassifierExperiment, "train_classifier.py", "gbm-deep-slow", new() { ["n_estimators"] = "80", ["max_depth"] = "4", ["learning_rate"] = "0.05" }),
            (RegressorExperiment, "train_regressor.py", "gbm-regressor", new() { ["n_estimators"] = "80", ["max_depth"] = "3" }),
        ];
        foreach (var (experiment, script, name, parameters) in samples)
        {
            if ((await RunsInAsync(services, experiment, cancellationToken)).Contains(name))
            {
                continue; // submitted before this step was retried
            }

            await jobs.SubmitAsync(new JobRequest(experiment, $"python3 {script}", "sklearn", train, parameters, RunName: name), Scientist, cancellationToken);
        }
    }

    /// <summary>Deterministic, plausible history: model families, depths and rates with AUCs that depend on them.</summary>
    internal static async Task GenerateHistoryAsync(TrackingStore store, int count, TimeProvider time, CancellationToken cancellationToken, int skip = 0)
    {
        var experiment = await store.GetOrCreateExperimentAsync(HistoryExperiment, Scientist, cancellationToken);
        var random = new Random(20261129);
        var now = time.UtcNow();
        string[] families = ["gbm", "logreg", "random-forest"];
        string[] featureSets = ["base", "base+bureau", "base+bureau+behaviour"];
        string[] users = [ScientistName, "ana@demo.local", "raj@demo.local"];
        const int Batch = 1000;
        for (var start = 0; start < count; start += Batch)
        {
            var runs = new List<(Run, IReadOnlyList<MetricPoint>)>(Batch);
            for (var i = start; i < Math.Min(count, start + Batch); i++)
            {
                var family = families[random.Next(families.Length)];
                var depth = random.Next(2, 11);
                var rate = Math.Round(Math.Exp(-1 - (random.NextDouble() * 4)), 4);
                var estimators = random.Next(2, 41) * 10;
                var features = featureSets[random.Next(featureSets.Length)];
                var started = now.AddDays(-180).AddMinutes(i * (180.0 * 24 * 60 / count));
                var actor = new Actor(users[i % users.Length], [Roles.DataScientist]);
                var run = Run.Start(experiment.Id, $"{family}-{i:00000}", actor, started, time);
                run.LogParam("model_type", family);
                run.LogParam("max_depth", depth.ToString(CultureInfo.InvariantCulture));
                run.LogParam("learning_rate", rate.ToString(CultureInfo.InvariantCulture));
                run.LogParam("n_estimators", estimators.ToString(CultureInfo.InvariantCulture));
                run.LogParam("feature_set", features);
                run.SetTag("mlflow.runName", run.Name);
                run.SetTag("mlflow.user", actor.Name);
                run.SetTag("team", i % 4 == 0 ? "fraud" : "credit");

                var quality = (family == "gbm" ? 0.05 : family == "random-forest" ? 0.03 : 0)
                    + (Array.IndexOf(featureSets, features) * 0.025) - (Math.Abs(depth - 5) * 0.006) - (Math.Abs(Math.Log(rate) + 2.3) * 0.01);
                var finalAuc = Math.Clamp(0.68 + quality + (random.NextDouble() * 0.03), 0.5, 0.99);
                var history = new List<MetricPoint>();
                var epochs = 10;
                var ts = (long)(started - DateTime.UnixEpoch).TotalMilliseconds;
                for (var step = 0; step < epochs; step++)
                {
                    var progress = 1 - Math.Exp(-(step + 1) / 3.0);
                    history.Add(new MetricPoint("val_auc", 0.5 + ((finalAuc - 0.5) * progress), ts + (step * 1000), step));
                    history.Add(new MetricPoint("train_loss", 0.7 - (0.4 * progress) + (random.NextDouble() * 0.01), ts + (step * 1000), step));
                    history.Add(new MetricPoint("val_logloss", 0.69 - ((finalAuc - 0.5) * 0.8 * progress), ts + (step * 1000), step));
                }

                var end = ts + (epochs * 1000);
                history.Add(new MetricPoint("val_accuracy", Math.Clamp(0.78 + ((finalAuc - 0.68) * 0.6), 0, 1), end, epochs - 1));
                history.Add(new MetricPoint("val_precision", Math.Clamp(0.4 + (finalAuc - 0.6) + (random.NextDouble() * 0.05), 0, 1), end, epochs - 1));
                history.Add(new MetricPoint("val_recall", Math.Clamp(0.3 + (finalAuc - 0.6) + (random.NextDouble() * 0.08), 0, 1), end, epochs - 1));
                history.Add(new MetricPoint("training_seconds", 20 + (estimators * depth * 0.05 * (1 + random.NextDouble())), end, 0));
                var failed = random.Next(40) == 0;
                if (failed)
                {
                    history.RemoveAll(p => p.Step > 4 || p.Key.StartsWith("val_a", StringComparison.Ordinal) && p.Step > 3);
                }

                run.Observe(history, time);
                run.Update(failed ? RunStatus.Failed : RunStatus.Finished, started.AddSeconds(30 + random.Next(600)), null, time);
                if (i >= skip)
                {
                    runs.Add((run, history));
                }
            }

            if (runs.Count > 0)
            {
                await store.ImportRunsAsync(runs, cancellationToken);
            }
        }
    }

    /// <summary>The names of the runs an experiment holds (none when it does not exist yet).</summary>
    private static async Task<List<string>> RunsInAsync(IServiceProvider services, string experiment, CancellationToken cancellationToken)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(cancellationToken);
        return await db.Experiments.AsNoTracking().Where(e => e.Name == experiment)
            .Join(db.Runs.AsNoTracking(), e => e.Id, r => r.ExperimentId, (e, r) => r.Name).ToListAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: the portal has no HTTP address (no web server, or an in-memory test server); sample jobs are not run")]
    private partial void LogNoAddress();
}
