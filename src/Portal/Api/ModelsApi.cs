using Portal.Domain.Common;
using System.Security.Claims;
using Portal.Domain.Lineage;
using Portal.Domain.Models;
using Portal.Features.Navigation;
using Portal.Infrastructure.Lineage;
using Portal.Infrastructure.Models;
using Portal.Security;

namespace Portal.Api;

internal static class ModelsApi
{
    public static void MapModelsApi(this RouteGroupBuilder api)
    {
        var models = api.MapGroup("/models").WithTags("Models").RequireAuthorization(PortalAreas.Policies.Models);
        models.MapGet("/", ListAsync).WithSummary("Registered models with their latest, approved and deployed versions");
        models.MapGet("/{name}", GetModelAsync).WithSummary("A registered model: its versions and the policy that applies");
        models.MapPost("/{name}/versions", RegisterAsync).WithSummary("Register a version from a run's artifact: {runId, artifactPath, description?, tags?}");
        models.MapGet("/{name}/versions/{version:int}", GetAsync).WithSummary("A model version with its checks, evaluation, signature, card and lineage");
        models.MapPut("/{name}/versions/{version:int}/card", EditCardAsync).WithSummary("Replace the model card: {intendedUse, limitations, trainingData, evaluation, ethicalConsiderations} (Markdown)");
        models.MapPost("/{name}/versions/{version:int}/archive", ArchiveAsync).WithSummary("Retire an approved version: {reason} (its author, Ops or Admin); a deployed version serving traffic is refused (409)");
        models.MapPut("/{name}/policy", SetModelPolicyAsync).WithSummary("Admin: this model's own policy and checks ({policy?, checks?}; null returns to the defaults)");

        var policies = api.MapGroup("/policies").WithTags("Models").RequireAuthorization(PortalAreas.Policies.Models);
        policies.MapGet("/default", GetDefaultsAsync).WithSummary("The global approval policy and checks");
        policies.MapPut("/default", SetDefaultsAsync).WithSummary("Admin: replace the global approval policy and checks: {policy, checks}");
    }

    public sealed record RegisterBody(string? RunId, string? ArtifactPath, string? Description = null, IReadOnlyList<string>? Tags = null);

    public sealed record PolicyBody(int ApprovalsRequired, string? ReviewerRole, bool AuthorMayApprove, IReadOnlyList<string>? RequiredChecks, double ExpiresAfterDays)
    {
        public ApprovalPolicy ToPolicy() => new(ApprovalsRequired, ReviewerRole ?? "", AuthorMayApprove, RequiredChecks ?? [],
            double.IsFinite(ExpiresAfterDays) && Math.Abs(ExpiresAfterDays) < 100_000 ? TimeSpan.FromDays(ExpiresAfterDays) : TimeSpan.Zero);
    }

    public sealed record ArchiveBody(string? Reason);

    public sealed record GovernanceBody(PolicyBody? Policy, ValidationSettings? Checks);

    private static async Task<IResult> ListAsync(ModelRegistry registry, CancellationToken cancellationToken) =>
        TypedResults.Ok((await registry.ListAsync(cancellationToken)).Select(m => new
        {
            name = m.Model.Name,
            description = m.Model.Description,
            versions = m.Versions,
            latestVersion = m.LatestVersion,
            approvedVersion = m.ApprovedVersion,
            deployedVersion = m.DeployedVersion,
        }));

    private static async Task<IResult> GetModelAsync(string name, ModelRegistry registry, RegistryPolicies policies, CancellationToken cancellationToken)
    {
        var versions = await registry.VersionsAsync(name, cancellationToken);
        if (versions.Count == 0)
        {
            return ApiProblems.NotFound($"There is no model '{name}'.");
        }

        var effective = await policies.ForModelAsync(name, cancellationToken);
        return TypedResults.Ok(new
        {
            name,
            policy = ApprovalsApi.PolicyShape(effective.Policy),
            checks = effective.Validation,
            ownPolicy = effective.ModelOwnPolicy,
            ownChecks = effective.ModelOwnValidation,
            versions = versions.Select(v => new { version = v.Version, state = v.State.ToString(), author = v.Author, createdAt = v.CreatedAt, stateChangedAt = v.StateChangedAt }),
        });
    }

    private static async Task<IResult> RegisterAsync(string name, RegisterBody? body, ModelRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var version = await registry.RegisterVersionAsync(name, body?.RunId, body?.ArtifactPath, user.ToActor(), cancellationToken, body?.Description, body?.Tags);
        return TypedResults.Created($"/api/v1/models/{Uri.EscapeDataString(name)}/versions/{version.Version}", new { name, version = version.Version, state = version.State.ToString() });
    }

    private static async Task<IResult> GetAsync(string name, int version, ModelRegistry registry, LineageGraph lineage, CancellationToken cancellationToken)
    {
        if (await registry.FindVersionAsync(name, version, cancellationToken) is not { } found)
        {
            return ApiProblems.NotFound($"There is no version {version} of model '{name}'.");
        }

        var walk = await lineage.WalkAsync(ArtifactRef.Parse($"model:{name}:{version}"), LineageDirection.Upstream, 3, cancellationToken);
        return TypedResults.Ok(new
        {
            name = found.ModelName,
            version = found.Version,
            state = found.State.ToString(),
            stateReason = found.StateReason,
            nextStates = found.NextStates().Select(s => s.ToString()),
            sourceRunId = found.SourceRunId,
            artifactPath = found.ArtifactPath,
            artifactHash = found.ArtifactHash,
            author = found.Author,
            createdAt = found.CreatedAt,
            description = found.Description,
            tags = found.Tags,
            metrics = found.Metrics,
            signature = found.Signature.Select(c => new { name = c.Name, type = c.Type.ToString(), nullable = c.Nullable }),
            trainingDatasets = found.TrainingDatasets,
            checks = found.Checks.Select(c => new { name = c.Name, status = c.Status.ToString(), detail = c.Detail, at = c.At }),
            evaluation = found.Evaluation,
            card = found.Card,
            lineage = new { nodes = walk.Nodes.Select(n => n.Ref), edges = walk.Edges.Select(e => new { from = e.From, to = e.To, relation = e.Relation.ToString() }) },
        });
    }

    private static async Task<IResult> EditCardAsync(string name, int version, ModelCard? body, ModelRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return ApiProblems.Invalid("card", "card: send the five sections as JSON.");
        }

        var card = new ModelCard(body.IntendedUse ?? "", body.Limitations ?? "", body.TrainingData ?? "", body.Evaluation ?? "", body.EthicalConsiderations ?? "");
        await registry.EditCardAsync(name, version, card, user.ToActor(), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ArchiveAsync(string name, int version, ArchiveBody? body, ModelRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await registry.ArchiveAsync(name, version, body?.Reason, user.ToActor(), cancellationToken);
        var archived = await registry.FindVersionAsync(name, version, cancellationToken);
        return TypedResults.Ok(new { name, version, state = archived!.State.ToString(), stateReason = archived.StateReason });
    }

    private static async Task<IResult> GetDefaultsAsync(RegistryPolicies policies, CancellationToken cancellationToken)
    {
        var defaults = await policies.DefaultsAsync(cancellationToken);
        return TypedResults.Ok(new { policy = ApprovalsApi.PolicyShape(defaults.Policy), checks = defaults.Validation });
    }

    private static async Task<IResult> SetDefaultsAsync(GovernanceBody? body, RegistryPolicies policies, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (body?.Policy is null || body.Checks is null)
        {
            return ApiProblems.Invalid("policy", "policy and checks: send both.");
        }

        await policies.SaveDefaultsAsync(body.Policy.ToPolicy(), Normalised(body.Checks), user.ToActor(), cancellationToken);
        return await GetDefaultsAsync(policies, cancellationToken);
    }

    private static async Task<IResult> SetModelPolicyAsync(string name, GovernanceBody? body, RegistryPolicies policies, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await policies.SaveForModelAsync(name, body?.Policy?.ToPolicy(), body?.Checks is { } checks ? Normalised(checks) : null, user.ToActor(), cancellationToken);
        var effective = await policies.ForModelAsync(name, cancellationToken);
        return TypedResults.Ok(new { policy = ApprovalsApi.PolicyShape(effective.Policy), checks = effective.Validation, ownPolicy = effective.ModelOwnPolicy, ownChecks = effective.ModelOwnValidation });
    }

    // JSON may leave lists and names out; the domain then explains what is missing.
    private static ValidationSettings Normalised(ValidationSettings checks) => checks with
    {
        RequiredMetrics = checks.RequiredMetrics ?? new Dictionary<string, double>(),
        HoldoutDataset = checks.HoldoutDataset ?? "",
        Target = checks.Target ?? "",
        Metric = checks.Metric ?? "",
        SliceColumn = string.IsNullOrWhiteSpace(checks.SliceColumn) ? null : checks.SliceColumn.Trim(),
    };
}
