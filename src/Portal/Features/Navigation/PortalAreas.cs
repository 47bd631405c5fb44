using MudBlazor;
using Portal.Domain.Identity;

namespace Portal.Features.Navigation;

/// <summary>
/// The areas of the portal (design.md §3): where they live, who may open them, and whether they are
/// built yet. Navigation, page authorization policies and breadcrumbs are all derived from this list,
/// so what a person sees in the menu is exactly what the server lets them open.
/// </summary>
public static class PortalAreas
{
    /// <summary>Policy names, usable in <c>[Authorize(Policy = …)]</c>.</summary>
    public static class Policies
    {
        public const string Datasets = "area:datasets";
        public const string Experiments = "area:experiments";
        public const string Jobs = "area:jobs";
        public const string Models = "area:models";
        public const string Reviews = "area:reviews";
        public const string Deployments = "area:deployments";
        public const string Compute = "area:compute";
        public const string Cost = "area:cost";
        public const string Lineage = "area:lineage";
        public const string Audit = "area:audit";
        public const string Admin = "area:admin";

        /// <summary>Registering data and changing contracts: data scientists and administrators.</summary>
        public const string DatasetsWrite = "datasets:write";

        /// <summary>Reporting lineage from other systems (OpenLineage).</summary>
        public const string LineageWrite = "lineage:write";

        /// <summary>Scraping <c>/metrics</c>: Ops and administrators (a Prometheus server uses one of their tokens).</summary>
        public const string Metrics = "metrics:read";
    }

    private const string DS = Roles.DataScientist;
    private const string RR = Roles.RiskReviewer;
    private const string Ops = Roles.Ops;
    private const string Adm = Roles.Admin;
    private const string View = Roles.Viewer;

    public static PortalArea Home { get; } = new("home", "Home", "/", Icons.Material.Filled.Home, null, Roles.All,
        "What needs you: running jobs, pending reviews, alerts.");

    public static IReadOnlyList<PortalArea> All { get; } =
    [
        Home,
        new("datasets", "Datasets", "/datasets", Icons.Material.Filled.Dataset, Policies.Datasets, [DS, RR, Ops, Adm, View],
            "Versioned data with contracts, validation, profiles and drift checks."),
        new("experiments", "Experiments", "/experiments", Icons.Material.Filled.Science, Policies.Experiments, [DS, RR, Ops, Adm, View],
            "Runs with live metrics, comparison of thousands of runs."),
        new("jobs", "Jobs & Sweeps", "/jobs", Icons.Material.Filled.PlayCircle, Policies.Jobs, [DS, Adm],
            "Submit training jobs and hyperparameter sweeps; watch the queue."),
        new("models", "Models", "/models", Icons.Material.Filled.ModelTraining, Policies.Models, [DS, RR, Ops, Adm, View],
            "The model registry: versions, model cards, evaluation against the champion."),
        new("reviews", "Reviews", "/reviews", Icons.Material.Filled.FactCheck, Policies.Reviews, [RR, Adm],
            "Model versions awaiting your review, with their evidence."),
        new("deployments", "Deployments", "/deployments", Icons.Material.Filled.RocketLaunch, Policies.Deployments, [Ops, DS, Adm, View],
            "Endpoints, traffic split, canary and rollback, live latency and drift."),
        new("compute", "Compute & GPU", "/compute", Icons.Material.Filled.Memory, Policies.Compute, [Ops, DS, Adm],
            "GPU fleet use, per-job attribution, idle capacity."),
        new("cost", "Cost", "/cost", Icons.Material.Filled.Payments, Policies.Cost, [Ops, Adm],
            "Cost by team, user, model and deployment; budgets and forecast."),
        new("lineage", "Lineage", "/lineage", Icons.Material.Filled.AccountTree, Policies.Lineage, [DS, RR, Ops, Adm, View],
            "Trace any artifact up to its data and down to its deployments."),
        new("audit", "Audit", "/audit", Icons.Material.Filled.Policy, Policies.Audit, [RR, Adm],
            "The tamper-evident record of every decision and security event."),
        new("admin", "Admin", "/admin", Icons.Material.Filled.AdminPanelSettings, Policies.Admin, [Adm],
            "People and roles; policies, price cards and backends."),
    ];

    public static PortalArea ByKey(string key) => All.Single(a => a.Key == key);

    public static IEnumerable<PortalArea> For(IEnumerable<string> roles)
    {
        var held = roles.ToHashSet(StringComparer.Ordinal);
        // Home is for anyone signed in, even someone whose roles were all taken away.
        return All.Where(a => a.Policy is null || a.Roles.Any(held.Contains));
    }

    public static PortalArea? ByPath(string path)
    {
        var first = "/" + path.TrimStart('/').Split('/', 2)[0];
        return All.FirstOrDefault(a => a.Path != "/" && string.Equals(a.Path, first, StringComparison.OrdinalIgnoreCase))
            ?? (first == "/" ? Home : null);
    }
}

/// <summary>An area of the portal.</summary>
/// <param name="Policy">Authorization policy guarding its pages; null for Home (any signed-in person).</param>
public sealed record PortalArea(
    string Key, string Title, string Path, string Icon, string? Policy, IReadOnlyList<string> Roles, string Description);
