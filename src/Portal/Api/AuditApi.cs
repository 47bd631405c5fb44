using Microsoft.AspNetCore.Http.HttpResults;
using Portal.Domain.Audit;
using Portal.Features.Navigation;
using Portal.Infrastructure.Audit;

namespace Portal.Api;

internal static class AuditApi
{
    public const int DefaultPageSize = 50;

    /// <summary><c>GET /api/v1/audit</c> (newest first, paged; total in <c>X-Total-Count</c>) and <c>GET /api/v1/audit/verify</c>.</summary>
    public static void MapAuditApi(this RouteGroupBuilder api)
    {
        var audit = api.MapGroup("/audit").WithTags("Audit").RequireAuthorization(PortalAreas.Policies.Audit);
        audit.MapGet("/", SearchAsync).WithSummary("Search the audit trail");
        audit.MapGet("/verify", VerifyAsync).WithSummary("Recompute the audit hash chain");
        audit.MapGet("/export.csv", ExportAsync).WithSummary("The filtered trail as CSV (formula-safe), newest first, at most 100,000 entries");
    }

    private static async Task<Results<Ok<List<AuditEntryResponse>>, ValidationProblem>> SearchAsync(
        HttpContext context, AuditTrail trail, CancellationToken cancellationToken,
        string? entity = null, string? actor = null, string? action = null,
        DateTime? from = null, DateTime? to = null, int page = 1, int pageSize = DefaultPageSize)
    {
        var errors = new Dictionary<string, string[]>();
        if (page < 1)
        {
            errors["page"] = ["Pages are numbered from 1."];
        }

        if (pageSize is < 1 or > AuditTrail.MaxPageSize)
        {
            errors["pageSize"] = [$"A page holds 1 to {AuditTrail.MaxPageSize} entries."];
        }

        if (from > to)
        {
            errors["from"] = ["'from' is after 'to'."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        var result = await trail.SearchAsync(new AuditQuery(entity, actor, action, ToUtc(from), ToUtc(to), (page - 1) * pageSize, pageSize), cancellationToken);
        context.Response.Headers["X-Total-Count"] = result.Total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Ok(result.Entries.Select(AuditEntryResponse.From).ToList());
    }

    public const int MaxExport = 100_000;

    private static async Task<IResult> ExportAsync(AuditTrail trail, CancellationToken cancellationToken,
        string? entity = null, string? actor = null, string? action = null, DateTime? from = null, DateTime? to = null)
    {
        if (from > to)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["from"] = ["'from' is after 'to'."] });
        }

        var rows = new List<IEnumerable<string?>> { new[] { "id", "at", "actor", "action", "entity", "before", "after", "reason", "hash", "previousHash" } };
        for (var skip = 0; skip < MaxExport; skip += AuditTrail.MaxPageSize)
        {
            var page = await trail.SearchAsync(new AuditQuery(entity, actor, action, ToUtc(from), ToUtc(to), skip, AuditTrail.MaxPageSize), cancellationToken);
            rows.AddRange(page.Entries.Select(e => new[]
            {
                e.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), e.At.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                e.Actor, e.Action, e.Entity, e.Before, e.After, e.Reason, e.Hash, e.PreviousHash,
            }));
            if (page.Entries.Count < AuditTrail.MaxPageSize)
            {
                break;
            }
        }

        return TypedResults.File(System.Text.Encoding.UTF8.GetBytes(SafeCsv.Write(rows)), "text/csv; charset=utf-8", "audit.csv");
    }

    private static async Task<Ok<AuditVerification>> VerifyAsync(AuditTrail trail, CancellationToken cancellationToken) =>
        TypedResults.Ok(await trail.VerifyAsync(cancellationToken));

    private static DateTime? ToUtc(DateTime? value) => value?.Kind switch
    {
        null => null,
        DateTimeKind.Unspecified => DateTime.SpecifyKind(value.Value, DateTimeKind.Utc),
        _ => value.Value.ToUniversalTime(),
    };
}

internal sealed record AuditEntryResponse(
    long Id, DateTime At, string Actor, string Action, string Entity, string? Before, string? After, string? Reason, string Hash, string PreviousHash)
{
    public static AuditEntryResponse From(AuditEntry e) =>
        new(e.Id, e.At, e.Actor, e.Action, e.Entity, e.Before, e.After, e.Reason, e.Hash, e.PreviousHash);
}
