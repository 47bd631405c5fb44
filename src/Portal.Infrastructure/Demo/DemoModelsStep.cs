using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Domain.Jobs;
using Portal.Domain.Models;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Models;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Demo;

/// <summary>
/// The model registry's story, from the sample runs of the experiments step: <c>credit-risk</c> v1 approved by
/// two reviewers (the deployments step puts it in production), v2 rejected with a reason, v3 waiting for approval (asked by the demo
/// scientist). Every step goes through the real checks (the holdout evaluations are real jobs) and workflow.
/// </summary>
public sealed partial class DemoModelsStep(ILogger<DemoModelsStep> logger) : IDemoSeedStep
{
    public const string Model = "credit-risk";
    private static readonly Actor Scientist = new("scientist@demo.local", [Roles.DataScientist]);
    private static readonly Actor Reviewer = new("reviewer@demo.local", [Roles.RiskReviewer]);
    private static readonly Actor Reviewer2 = new("reviewer2@demo.local", [Roles.RiskReviewer]);

    public string Name => "models";

    public int Order => 30;

    public bool BeforeStartup => false;

    public string Description => "A registered model: one version approved and in production, one rejected, one waiting for review";

    public async Task RunAsync(DemoSeedContext context, CancellationToken cancellationToken)
    {
        var services = context.Services;
        var runs = await SampleRunsAsync(services, cancellationToken);
        if (runs is null)
        {
            LogNoSamples();
            return;
        }

        var registry = services.GetRequiredService<ModelRegistry>();
        var approvals = services.GetRequiredService<Approvals>();
        var dbFactory = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        long trainingRows;
        // Each version's story is told from wherever it stands, so a step retried after a busy database
        // carries on instead of registering, asking or deciding twice.
        var story = new Story(registry, approvals, dbFactory, cancellationToken);
        // The card states the training data's size as registered, not a number written by hand.
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            trainingRows = (await DatasetCatalog.VersionByRefAsync(db, $"dataset:{DemoDatasetsStep.Dataset}:1", cancellationToken))?.Rows ?? 0;
        }

        // The deepest model fits September best but is the weakest on October's holdout: it is the old champion.
        var v1 = await story.VersionAsync(runs["gbm-deep-slow"], "Gradient boosting, 80 trees of depth 4. The first model approved for the loan desk.",
            Card("80 trees, depth 4, learning rate 0.05.", trainingRows));
        await story.ReviewAsync(v1, "First credit-risk scorer for the loan desk; replaces the manual score card.",
            (Reviewer, Verdict.Approve, "Evidence pack complete; AUC well above the score card it replaces."),
            (Reviewer2, Verdict.Approve, "Slices reviewed with the fairness lead; acceptable for launch."));
        var v2 = await story.VersionAsync(runs["gbm-baseline"], "Gradient boosting, 60 trees of depth 3.", Card("60 trees, depth 3, learning rate 0.1.", trainingRows));
        await story.ReviewAsync(v2, "Better than production on the October holdout.", (Reviewer, Verdict.Reject, await RejectionAsync(registry, v2, cancellationToken)));

        var v3 = await story.VersionAsync(runs["gbm-shallow"], "Gradient boosting, 40 trees of depth 2: simpler, and steadier on October data.",
            Card("40 trees, depth 2, learning rate 0.1.", trainingRows));
        await story.ReviewAsync(v3, "Shallower trees hold up better on October's applicants and narrow the gap between employment groups.");
    }

    /// <summary>Moves one demo version along its path from the state it is in.</summary>
    private sealed class Story(ModelRegistry registry, Approvals approvals, IDbContextFactory<PortalDbContext> dbFactory, CancellationToken cancellationToken)
    {
        /// <summary>The version registered from <paramref name="runId"/> (registered now if it is not yet), once its checks passed.</summary>
        public async Task<int> VersionAsync(string runId, string description, ModelCard card)
        {
            int? existing;
            await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
            {
                existing = await db.ModelVersions.AsNoTracking().Where(v => v.ModelName == Model && v.SourceRunId == runId)
                    .Select(v => (int?)v.Version).FirstOrDefaultAsync(cancellationToken);
            }

            var number = existing ?? (await registry.RegisterVersionAsync(Model, runId, "outputs/model.pkl", Scientist, cancellationToken, description, ["gradient-boosting", "credit"])).Version;
            if ((await registry.FindVersionAsync(Model, number, cancellationToken))! is { State: ModelState.Registered or ModelState.Validated } current && current.Card != card)
            {
                await registry.EditCardAsync(Model, number, card, Scientist, cancellationToken);
            }

            // Deadlines are elapsed time on a monotonic clock, not wall-clock readings that can jump.
            var waited = Stopwatch.StartNew();
            while (true)
            {
                var found = (await registry.FindVersionAsync(Model, number, cancellationToken))!;
                if (found.State is not (ModelState.Registered or ModelState.Failed))
                {
                    return number;
                }

                if (found.State == ModelState.Failed)
                {
                    throw new InvalidOperationException($"{found.Label} did not pass its checks: {found.StateReason}");
                }

                if (waited.Elapsed > TimeSpan.FromMinutes(10))
                {
                    throw new TimeoutException($"The checks of {found.Label} did not finish within 10 minutes.");
                }

                await Task.Delay(500, cancellationToken);
            }
        }

        /// <summary>Asks for approval (unless asked already) and records the decisions not made yet.</summary>
        public async Task ReviewAsync(int number, string comment, params (Actor Reviewer, Verdict Verdict, string Reason)[] decisions)
        {
            var version = (await registry.FindVersionAsync(Model, number, cancellationToken))!;
            ApprovalRequest request;
            if (version.State == ModelState.Validated)
            {
                request = await approvals.RequestAsync(Model, number, comment, Scientist, cancellationToken);
            }
            else
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                request = await db.ApprovalRequests.AsNoTracking().Where(r => r.ModelName == Model && r.Version == number)
                    .OrderByDescending(r => r.RequestedAt).FirstAsync(cancellationToken);
            }

            foreach (var (reviewer, verdict, reason) in decisions)
            {
                if (request.State == ApprovalState.Open && request.Decisions.All(d => d.Reviewer != reviewer.Name))
                {
                    request = await approvals.DecideAsync(request.Id, verdict, reason, reviewer, cancellationToken);
                }
            }
        }
    }

    /// <summary>The classifier sample runs by name, once their jobs have ended; null when the samples were not run here.</summary>
    private static async Task<Dictionary<string, string>?> SampleRunsAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var dbFactory = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        var waited = Stopwatch.StartNew();
        while (true)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var samples = await db.Experiments.AsNoTracking().Where(e => e.Name == DemoExperimentsStep.ClassifierExperiment)
                .Join(db.Runs.AsNoTracking(), e => e.Id, r => r.ExperimentId, (e, r) => new { r.Id, r.Name })
                .Join(db.Jobs.AsNoTracking(), r => r.Id, j => j.RunId, (r, j) => new { r.Id, r.Name, j.Status })
                .ToListAsync(cancellationToken);
            if (samples.Count == 0)
            {
                return null;
            }

            if (samples.All(s => s.Status.IsFinal()))
            {
                var failed = samples.Where(s => s.Status != JobStatus.Completed).Select(s => s.Name).ToList();
                return failed.Count == 0
                    ? samples.GroupBy(s => s.Name).ToDictionary(g => g.Key, g => g.First().Id, StringComparer.Ordinal)
                    : throw new InvalidOperationException($"Sample training jobs did not complete: {string.Join(", ", failed)}; see their logs on the Jobs page.");
            }

            if (waited.Elapsed > TimeSpan.FromMinutes(15))
            {
                throw new TimeoutException("The sample training jobs did not end within 15 minutes.");
            }

            await Task.Delay(1000, cancellationToken);
        }
    }

    /// <summary>The reviewer's reason, from what the evaluation of that version really measured.</summary>
    private static async Task<string> RejectionAsync(ModelRegistry registry, int number, CancellationToken cancellationToken)
    {
        var evaluation = (await registry.FindVersionAsync(Model, number, cancellationToken))!.Evaluation!;
        var worst = evaluation.ComparableSlices(ValidationSettings.DefaultMinSliceRows).MinBy(s => s.Candidate)!;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"AUC differs by {evaluation.SliceGap(ValidationSettings.DefaultMinSliceRows):0.00} between employment groups, and '{worst.Slice}' applicants are scored worst ({worst.Candidate:0.00}). Too uneven for the loan desk: retrain with October data before asking again.");
    }

    private static ModelCard Card(string hyperparameters, long trainingRows) => new(
        IntendedUse: "Ranks **consumer loan applications** by probability of default, to route risky ones to a human underwriter. Not for automatic rejection.",
        Limitations: "Trained on September 2026 applications only. Applicants with employment codes unseen in training (e.g. `gig`) are scored less reliably.",
        TrainingData: $"`dataset:credit-risk:1` (September 2026 extract, {trainingRows:N0} rows, contract validated). {hyperparameters}",
        Evaluation: $"Validation AUC on a 25 % stratified split during training; holdout AUC on `{DemoDatasetsStep.Holdout}` (October 2026 applications that meet the contract) against the production model, overall and by `employment`.",
        EthicalConsiderations: "Employment type is a proxy for age and income stability: the slice check bounds the AUC gap between employment groups. E-mail addresses are never used as features.");

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: no sample training runs (they need the portal's HTTP address), so no models are registered")]
    private partial void LogNoSamples();
}
