using Portal.Domain.Common;
using System.Security.Claims;
using Portal.Domain.Models;
using Portal.Features.Navigation;
using Portal.Infrastructure.Models;
using Portal.Security;

namespace Portal.Api;

/// <summary>api.md "Model registry and approvals": requests and decisions. Who may decide is the domain's call (403, audited).</summary>
internal static class ApprovalsApi
{
    public static void MapApprovalsApi(this RouteGroupBuilder api)
    {
        var models = api.MapGroup("/models").WithTags("Approvals").RequireAuthorization(PortalAreas.Policies.Models);
        models.MapPost("/{name}/versions/{version:int}/approval-requests", RequestAsync).WithSummary("Ask for approval of a validated version: {comment}");

        var requests = api.MapGroup("/approval-requests").WithTags("Approvals").RequireAuthorization(PortalAreas.Policies.Models);
        requests.MapGet("/", ListAsync).WithSummary("Approval requests, oldest open first: ?state=Open|Approved|Rejected|Expired|Void&model=&page=&pageSize=");
        requests.MapGet("/{id:guid}", GetAsync).WithSummary("One approval request with its decisions");
        requests.MapPost("/{id:guid}/decisions", DecideAsync).WithSummary("Approve or reject: {verdict: approve|reject, reason}");
    }

    public sealed record RequestBody(string? Comment);

    public sealed record DecisionBody(string? Verdict, string? Reason);

    internal static object Shape(ApprovalRequest r) => new
    {
        id = r.Id,
        model = r.ModelName,
        version = r.Version,
        requestedBy = r.RequestedBy,
        requestedAt = r.RequestedAt,
        expiresAt = r.ExpiresAt,
        comment = r.Comment,
        state = r.State.ToString(),
        artifactHash = r.ArtifactHash,
        approvalsRequired = r.Policy.ApprovalsRequired,
        approvalsGiven = r.ApprovalsGiven,
        policy = PolicyShape(r.Policy),
        decisions = r.Decisions.Select(d => new { reviewer = d.Reviewer, verdict = d.Verdict.ToString().ToLowerInvariant(), reason = d.Reason, at = d.At }),
    };

    internal static object PolicyShape(ApprovalPolicy p) => new
    {
        approvalsRequired = p.ApprovalsRequired,
        reviewerRole = p.ReviewerRole,
        authorMayApprove = p.AuthorMayApprove,
        requiredChecks = p.RequiredChecks,
        expiresAfterDays = p.ExpiresAfter.TotalDays,
    };

    private static async Task<IResult> RequestAsync(string name, int version, RequestBody? body, Approvals approvals, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var request = await approvals.RequestAsync(name, version, body?.Comment, user.ToActor(), cancellationToken);
        return TypedResults.Created($"/api/v1/approval-requests/{request.Id}", new { id = request.Id, state = request.State.ToString(), policy = PolicyShape(request.Policy) });
    }

    private static async Task<IResult> ListAsync(Approvals approvals, string? state, string? model, int? page, int? pageSize, HttpContext http, CancellationToken cancellationToken)
    {
        ApprovalState? wanted = null;
        if (!string.IsNullOrWhiteSpace(state))
        {
            if (!Enum.TryParse<ApprovalState>(state, true, out var parsed) || !Enum.IsDefined(parsed))
            {
                return ApiProblems.Invalid("state", $"state: '{state}' is not one of {string.Join(", ", Enum.GetNames<ApprovalState>())}.");
            }

            wanted = parsed;
        }

        var size = Math.Clamp(pageSize ?? 100, 1, 500);
        var result = await approvals.ListAsync(new ApprovalQuery(wanted, model, Skip: (Math.Max(1, page ?? 1) - 1) * size, Take: size), cancellationToken);
        http.Response.Headers["X-Total-Count"] = result.Total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Ok(result.Requests.Select(Shape));
    }

    private static async Task<IResult> GetAsync(Guid id, Approvals approvals, CancellationToken cancellationToken) =>
        await approvals.FindAsync(id, cancellationToken) is { } request ? TypedResults.Ok(Shape(request)) : ApiProblems.NotFound($"There is no approval request {id}.");

    private static async Task<IResult> DecideAsync(Guid id, DecisionBody? body, Approvals approvals, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        Verdict verdict;
        switch (body?.Verdict?.Trim().ToLowerInvariant())
        {
            case "approve":
                verdict = Verdict.Approve;
                break;
            case "reject":
                verdict = Verdict.Reject;
                break;
            default:
                return ApiProblems.Invalid("verdict", $"verdict: '{body?.Verdict}' is neither 'approve' nor 'reject'.");
        }

        return TypedResults.Ok(Shape(await approvals.DecideAsync(id, verdict, body!.Reason, user.ToActor(), cancellationToken)));
    }
}
