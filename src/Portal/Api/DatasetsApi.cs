using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using Portal.Domain.Datasets;
using Portal.Features.Navigation;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Datasets.Ingestion;
using Portal.Security;

namespace Portal.Api;

internal static class DatasetsApi
{
    /// <summary>Room for the multipart envelope around the file.</summary>
    private const long MultipartSlack = 1 << 20;

    public static void MapDatasetsApi(this RouteGroupBuilder api)
    {
        var datasets = api.MapGroup("/datasets").WithTags("Datasets").RequireAuthorization(PortalAreas.Policies.Datasets);
        datasets.MapGet("/", ListAsync).WithSummary("List datasets (paged, searchable, sortable)");
        datasets.MapGet("/{name}", GetAsync).WithSummary("A dataset with its contract and versions");
        datasets.MapPatch("/{name}", DescribeAsync).WithSummary("Change a dataset's description").RequireAuthorization(PortalAreas.Policies.DatasetsWrite);
        datasets.MapPost("/{name}/versions", RegisterAsync).WithSummary("Register a version (multipart: file, description)")
            .RequireAuthorization(PortalAreas.Policies.DatasetsWrite).DisableAntiforgery();
        datasets.MapGet("/{name}/versions/{version:int}", GetVersionAsync).WithSummary("A version with its schema, profile and validation");
        datasets.MapPatch("/{name}/versions/{version:int}", DescribeVersionAsync).WithSummary("Change a version's description or tags")
            .RequireAuthorization(PortalAreas.Policies.DatasetsWrite);
        datasets.MapGet("/{name}/versions/{version:int}/content", ContentAsync).WithSummary("The original bytes of a version");
        datasets.MapGet("/{name}/versions/{version:int}/validation.csv", ValidationCsvAsync).WithSummary("The failed checks of a version as CSV (formula-safe)");
        datasets.MapGet("/{name}/versions/{version:int}/preview.csv", PreviewCsvAsync).WithSummary("The preview rows of a version as CSV (formula-safe, sensitive values masked)");
        datasets.MapPut("/{name}/contract", ReviseContractAsync).WithSummary("Adopt a new version of the data contract")
            .RequireAuthorization(PortalAreas.Policies.DatasetsWrite);
    }

    /// <summary>
    /// Streams the upload straight into registration: the file is never buffered, in memory or on disk,
    /// beyond what the artifact store keeps.
    /// </summary>
    private static async Task<IResult> RegisterAsync(string name, HttpContext context, DatasetCatalog catalog, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var mediaType) || !mediaType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(mediaType.Boundary).Value is not { Length: > 0 } boundary)
        {
            return ApiProblems.Invalid("file", "Send the file as multipart/form-data with a field named 'file' (and optionally 'description').");
        }

        var limit = catalog.MaxUploadBytes;
        if (request.ContentLength > limit + MultipartSlack)
        {
            return TooLarge(limit);
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = limit + MultipartSlack;
        }

        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = limit + 1 };
        string? description = null;
        VersionRegistration? registration = null;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    continue;
                }

                var field = HeaderUtilities.RemoveQuotes(disposition.Name).Value;
                if (field == "description" && !disposition.IsFileDisposition())
                {
                    using var text = new StreamReader(section.Body);
                    description = await text.ReadToEndAsync(cancellationToken);
                }
                else if (field == "file" && registration is null)
                {
                    var fileName = HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value;
                    registration = await catalog.RegisterVersionAsync(name, section.Body, fileName, description, user.ToActor(), cancellationToken);
                }
            }
        }
        catch (DatasetTooLargeException)
        {
            return TooLarge(limit);
        }
        catch (InvalidDataException ex) when (ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            return TooLarge(limit);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return TooLarge(limit);
        }

        if (registration is null)
        {
            return ApiProblems.Invalid("file", "The form has no field named 'file'.");
        }

        if (registration.Created && description is not null && registration.Version.Description != description.Trim())
        {
            // The description came after the file in the form.
            await catalog.DescribeVersionAsync(name, registration.Version.Number, description, null, user.ToActor(), cancellationToken);
        }

        var body = DatasetResponses.Version(registration.Dataset, registration.Version, withProfile: false);
        return registration.Created
            ? TypedResults.Created($"/api/v1/datasets/{Uri.EscapeDataString(name)}/versions/{registration.Version.Number}", body)
            : TypedResults.Ok(body);
    }

    private static async Task<Ok<List<object>>> ListAsync(
        HttpContext context, DatasetCatalog catalog, CancellationToken cancellationToken,
        string? search = null, string? sort = null, string? order = null, int page = 1, int pageSize = 50)
    {
        var by = sort?.ToLowerInvariant() switch
        {
            "updated" => DatasetSort.Updated,
            "versions" => DatasetSort.Versions,
            _ => DatasetSort.Name,
        };
        var size = Math.Clamp(pageSize, 1, DatasetCatalog.MaxPageSize);
        var result = await catalog.ListAsync(new DatasetQuery(search, by, order?.ToLowerInvariant() == "desc", (Math.Max(1, page) - 1) * size, size), cancellationToken);
        context.Response.Headers["X-Total-Count"] = result.Total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Ok(result.Datasets.Select(DatasetResponses.Summary).ToList());
    }

    private static async Task<IResult> GetAsync(string name, DatasetCatalog catalog, CancellationToken cancellationToken) =>
        await catalog.FindAsync(name, cancellationToken) is { } dataset ? TypedResults.Ok(DatasetResponses.Dataset(dataset)) : NotFound(name);

    private static async Task<IResult> GetVersionAsync(string name, int version, DatasetCatalog catalog, CancellationToken cancellationToken) =>
        await catalog.FindVersionAsync(name, version, cancellationToken) is { } found
            ? TypedResults.Ok(DatasetResponses.Version(found.Dataset, found.Version, withProfile: true))
            : NotFound(name, version);

    private static async Task<IResult> ContentAsync(string name, int version, DatasetCatalog catalog, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        // Refused (403, audited) to those who may not read a version's personal data raw; audited for those who may.
        if (await catalog.OpenOriginalAsync(name, version, user.ToActor(), cancellationToken) is not { } content)
        {
            return NotFound(name, version);
        }

        var contentType = content.Version.Format == DatasetFormat.Csv ? "text/csv; charset=utf-8" : "application/x-ndjson";
        return TypedResults.Stream(content.Content, contentType, content.Version.FileName, enableRangeProcessing: true);
    }

    private static async Task<IResult> ValidationCsvAsync(string name, int version, DatasetCatalog catalog, CancellationToken cancellationToken)
    {
        if (await catalog.FindVersionAsync(name, version, cancellationToken) is not { } found)
        {
            return NotFound(name, version);
        }

        var sensitive = PersonalData.SensitiveColumns(found.Dataset, found.Version);
        var rows = found.Version.Validation.Failures.Select(f => new[]
        {
            f.Column, f.Rule, f.Severity == Severity.Error ? "error" : "warning", f.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), f.Detail,
            string.Join(" | ", sensitive.Contains(f.Column) ? PersonalData.MaskExamples(f.Examples) : f.Examples),
        });
        return Csv([["column", "rule", "severity", "count", "detail", "examples"], .. rows], $"{name}-v{version}-validation.csv");
    }

    private static async Task<IResult> PreviewCsvAsync(string name, int version, DatasetCatalog catalog, CancellationToken cancellationToken)
    {
        if (await catalog.FindVersionAsync(name, version, cancellationToken) is not { } found)
        {
            return NotFound(name, version);
        }

        var schema = found.Version.Schema;
        var sensitive = PersonalData.SensitiveColumns(found.Dataset, found.Version);
        var rows = found.Version.Preview.Select(row => schema.Select((c, i) => i < row.Count && row[i] is not null && sensitive.Contains(c.Name) ? PersonalData.Mask : i < row.Count ? row[i] : null));
        return Csv([schema.Select(c => (string?)c.Name), .. rows], $"{name}-v{version}-preview.csv");
    }

    private static IResult Csv(IEnumerable<IEnumerable<string?>> rows, string fileName) =>
        TypedResults.File(System.Text.Encoding.UTF8.GetPreamble().Concat(System.Text.Encoding.UTF8.GetBytes(SafeCsv.Write(rows))).ToArray(), "text/csv; charset=utf-8", fileName);

    private static async Task<IResult> ReviseContractAsync(string name, ContractRequest? request, DatasetCatalog catalog, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>();
        var columns = new List<ContractColumn>();
        var given = request?.Columns ?? [];
        for (var i = 0; i < given.Count; i++)
        {
            var c = given[i];
            if (!ColumnTypes.TryParse(c.Type, out var type))
            {
                errors[$"columns[{i}].type"] = [$"'{c.Type}' is not a column type; use one of {string.Join(", ", ColumnTypes.Names)}."];
                continue;
            }

            columns.Add(new ContractColumn(c.Name ?? "", type, c.Nullable ?? true, c.Min, c.Max, c.Allowed, c.Unique ?? false, c.Sensitive ?? false));
        }

        if (errors.Count == 0)
        {
            foreach (var (field, messages) in DataContract.Check(columns).ToDictionary())
            {
                errors[field] = messages;
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: "The contract has problems; nothing was changed.");
        }

        return TypedResults.Ok(DatasetResponses.Contract(await catalog.ReviseContractAsync(name, columns, user.ToActor(), cancellationToken)));
    }

    private static async Task<IResult> DescribeVersionAsync(string name, int version, VersionEdit? edit, DatasetCatalog catalog, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (edit?.Tags is { } tags && (tags.Count > DatasetVersion.MaxTags || tags.Any(t => t is null || t.Length > DatasetVersion.MaxTagLength)))
        {
            return ApiProblems.Invalid("tags", $"A version has at most {DatasetVersion.MaxTags} tags of at most {DatasetVersion.MaxTagLength} characters each.");
        }

        if (edit?.Description is { Length: > DatasetVersion.MaxDescriptionLength })
        {
            return ApiProblems.Invalid("description", $"A description is at most {DatasetVersion.MaxDescriptionLength} characters.");
        }

        var changed = await catalog.DescribeVersionAsync(name, version, edit?.Description, edit?.Tags, user.ToActor(), cancellationToken);
        if (changed is null)
        {
            return NotFound(name, version);
        }

        var found = await catalog.FindVersionAsync(name, version, cancellationToken);
        return TypedResults.Ok(DatasetResponses.Version(found!.Value.Dataset, found.Value.Version, withProfile: false));
    }

    private static async Task<IResult> DescribeAsync(string name, DatasetEdit? edit, DatasetCatalog catalog, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (edit?.Description is { Length: > DatasetVersion.MaxDescriptionLength })
        {
            return ApiProblems.Invalid("description", $"A description is at most {DatasetVersion.MaxDescriptionLength} characters.");
        }

        return await catalog.DescribeAsync(name, edit?.Description, user.ToActor(), cancellationToken)
            ? TypedResults.Ok(DatasetResponses.Dataset((await catalog.FindAsync(name, cancellationToken))!))
            : NotFound(name);
    }

    private static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "File too large",
            detail: $"The file is larger than the {limit / (1024 * 1024)} MB limit (Portal:Datasets:MaxUploadMegabytes). Nothing was stored.");

    private static ProblemHttpResult NotFound(string name, int? version = null) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found",
            detail: version is null ? $"There is no dataset '{name}'." : $"Dataset '{name}' has no version {version}.");
}

internal sealed record ContractRequest(List<ContractColumnRequest>? Columns);

internal sealed record ContractColumnRequest(string? Name, string? Type, bool? Nullable, double? Min, double? Max, List<string>? Allowed, bool? Unique, bool? Sensitive);

internal sealed record VersionEdit(string? Description, List<string>? Tags);

internal sealed record DatasetEdit(string? Description);
