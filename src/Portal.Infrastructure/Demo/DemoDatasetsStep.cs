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
/// </summary>
internal sealed class DemoDatasetsStep : IDemoSeedStep
{
    public const string Dataset = "credit-risk";

    private static readonly Actor Scientist = new("scientist@demo.local", [Roles.DataScientist]);

    public string Name => "datasets";

    public int Order => 10;

    public bool BeforeStartup => false;

    public string Description => "Credit-risk dataset, two monthly versions with lineage";

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

        var warehouse = ArtifactRef.External("warehouse", "loans.applications_daily");
        var job = ArtifactRef.External("airflow", "credit_risk_monthly_extract");
        await lineage.RecordAsync(
        [
            (warehouse, job, LineageRelation.Consumed),
            (job, ArtifactRef.Dataset(Dataset, 1), LineageRelation.Produced),
            (job, ArtifactRef.Dataset(Dataset, 2), LineageRelation.Produced),
        ], Scientist, "openlineage", cancellationToken);
    }
}
