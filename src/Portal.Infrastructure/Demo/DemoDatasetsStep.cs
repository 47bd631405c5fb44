using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Domain.Lineage;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Lineage;

namespace Portal.Infrastructure.Demo;

/// <summary>
/// The demo credit-risk dataset: September's extract (version 1, which sets the contract: it has an
/// e-mail column, flagged as personal data) and October's (version 2: drift, a category the contract
/// does not allow, missing ages, repeated ids: it fails validation). Their lineage comes from the
/// warehouse through a scheduled extract job, as another system would report it over OpenLineage.
/// October's applications cleaned of the rows its contract rejects (no age, a repeated id) are the separate
/// <see cref="Holdout"/> dataset that models are scored on: evidence on rejected rows would mislead reviewers.
/// </summary>
internal sealed class DemoDatasetsStep : IDemoSeedStep
{
    public const string Dataset = "credit-risk";

    public const string Holdout = "credit-risk-holdout";

    private static readonly Actor Scientist = new("scientist@demo.local", [Roles.DataScientist]);

    public string Name => "datasets";

    public int Order => 10;

    public bool BeforeStartup => false;

    public string Description => "Credit-risk dataset, two monthly versions and a holdout set, with lineage";

    public async Task RunAsync(DemoSeedContext context, CancellationToken cancellationToken)
    {
        var catalog = context.Services.GetRequiredService<DatasetCatalog>();
        var lineage = context.Services.GetRequiredService<LineageGraph>();
        var extracts = new[]
        {
            ("credit-risk-2026-09.csv", "September 2026 extract of open loan applications from the loans warehouse."),
            ("credit-risk-2026-10.csv", "October 2026 extract. Arrived with new employment codes from the onboarding app."),
        };
        foreach (var (file, description) in extracts)
        {
            await using var content = typeof(DemoDatasetsStep).Assembly.GetManifestResourceStream($"demo/{file}")
                ?? throw new InvalidOperationException($"The demo file {file} is missing from the build.");
            await catalog.RegisterVersionAsync(Dataset, content, file, description, Scientist, cancellationToken);
        }

        await using (var holdout = typeof(DemoDatasetsStep).Assembly.GetManifestResourceStream("demo/credit-risk-holdout-2026-10.csv")
            ?? throw new InvalidOperationException("The demo holdout file is missing from the build."))
        {
            await catalog.RegisterVersionAsync(Holdout, holdout, "credit-risk-holdout-2026-10.csv",
                "October 2026 applications without the rows the credit-risk contract rejects (missing age, repeated customer id): what models are scored on.",
                Scientist, cancellationToken);
        }

        var warehouse = ArtifactRef.External("warehouse", "loans.applications_daily");
        var job = ArtifactRef.External("airflow", "credit_risk_monthly_extract");
        await lineage.RecordAsync(
        [
            (warehouse, job, LineageRelation.Consumed),
            (job, ArtifactRef.Dataset(Dataset, 1), LineageRelation.Produced),
            (job, ArtifactRef.Dataset(Dataset, 2), LineageRelation.Produced),
            (ArtifactRef.Dataset(Dataset, 2), ArtifactRef.Dataset(Holdout, 1), LineageRelation.DerivedFrom),
        ], Scientist, "openlineage", cancellationToken);
    }
}
