using Portal.Domain.Datasets;
using Portal.Infrastructure.Datasets;

namespace Portal.Api;

/// <summary>The JSON of the datasets API (shared/api.md), built from domain objects.</summary>
internal static class DatasetResponses
{
    public static object Version(Dataset dataset, DatasetVersion v, bool withProfile) => Version(dataset, v, withProfile, PersonalData.SensitiveColumns(dataset, v));

    private static object Version(Dataset dataset, DatasetVersion v, bool withProfile, IReadOnlySet<string> sensitive) => new
    {
        name = dataset.Name,
        version = v.Number,
        hash = v.ContentHash,
        sizeBytes = v.SizeBytes,
        format = v.Format == DatasetFormat.Csv ? "csv" : "jsonl",
        fileName = v.FileName,
        rows = v.Rows,
        columns = v.ColumnCount,
        schema = v.Schema.Select(c => new { name = c.Name, type = c.Type.Name(), nullable = c.Nullable }),
        validation = Validation(v.Validation, sensitive),
        pii = v.Pii.Select(p => new { column = p.Column, kind = Kebab(p.Kind.ToString()), share = p.Share, sampled = p.Sampled }),
        description = v.Description,
        tags = v.Tags,
        createdAt = v.CreatedAt,
        createdBy = v.CreatedBy,
        profile = withProfile ? v.Profile.Columns.Select(c => Column(c, sensitive.Contains(c.Name))) : null,
        correlations = withProfile ? v.Profile.Correlations.Select(c => new { a = c.A, b = c.B, r = c.R }) : null,
    };

    /// <summary>A report as anyone may read it: examples of sensitive columns masked.</summary>
    public static object Validation(ValidationReport report, IReadOnlySet<string> sensitive) => new
    {
        status = report.Status == ValidationStatus.Passed ? "passed" : "failed",
        failures = report.Failures.Select(f => new
        {
            column = f.Column,
            rule = f.Rule,
            detail = f.Detail,
            count = f.Count,
            severity = f.Severity == Severity.Error ? "error" : "warning",
            examples = sensitive.Contains(f.Column) ? PersonalData.MaskExamples(f.Examples) : f.Examples,
        }),
        contractVersion = report.ContractVersion,
        comparedToVersion = report.ComparedToVersion,
        drift = report.Drift.Select(d => new
        {
            column = d.Column,
            psi = d.Psi,
            ksStatistic = d.KsStatistic,
            ksPValue = d.KsPValue,
            chiSquare = d.ChiSquare,
            chiSquarePValue = d.ChiSquarePValue,
            outOfRangeShare = d.OutOfRangeShare,
            verdict = d.Verdict,
        }),
        correlationChanges = report.CorrelationChanges.Select(c => new { a = c.A, b = c.B, before = c.Before, after = c.After }),
    };

    public static object Dataset(Dataset d) => new
    {
        name = d.Name,
        description = d.Description,
        createdAt = d.CreatedAt,
        createdBy = d.CreatedBy,
        contract = d.Contract is { } c ? Contract(c) : null,
        versions = d.Versions.OrderBy(v => v.Number).Select(v => new
        {
            version = v.Number,
            hash = v.ContentHash,
            rows = v.Rows,
            columns = v.ColumnCount,
            createdAt = v.CreatedAt,
            createdBy = v.CreatedBy,
            validation = new { status = v.Status == ValidationStatus.Passed ? "passed" : "failed" },
            description = v.Description,
            tags = v.Tags,
        }),
    };

    public static object Summary(DatasetSummary s) => new
    {
        name = s.Name,
        description = s.Description,
        versions = s.Versions,
        latestVersion = s.LatestVersion,
        latestStatus = s.LatestStatus is { } status ? (status == ValidationStatus.Passed ? "passed" : "failed") : null,
        latestRows = s.LatestRows,
        updatedAt = s.UpdatedAt,
        createdBy = s.CreatedBy,
    };

    public static object Contract(DataContract c) => new
    {
        version = c.Version,
        columns = c.Columns.Select(col => new
        {
            name = col.Name,
            type = col.Type.Name(),
            nullable = col.Nullable,
            min = col.Min,
            max = col.Max,
            allowed = col.Allowed,
            unique = col.Unique,
            sensitive = col.Sensitive,
        }),
        breakingChanges = c.BreakingChanges,
        createdAt = c.CreatedAt,
        createdBy = c.CreatedBy,
    };

    /// <summary>A column's statistics; dates as ISO text; nothing of a sensitive column's values (counts only).</summary>
    private static object Column(ColumnProfile c, bool sensitive)
    {
        object? Show(double? value) => sensitive || value is not { } v ? null : c.Type == ColumnType.Datetime ? Portal.Infrastructure.Datasets.Ingestion.DatasetValues.Date(v) : v;
        return new
        {
            name = c.Name,
            type = c.Type.Name(),
            count = c.Count,
            missing = c.Missing,
            distinct = c.Distinct,
            distinctIsExact = c.DistinctIsExact,
            min = Show(c.Min),
            max = Show(c.Max),
            mean = sensitive ? null : c.Mean,
            std = sensitive ? null : c.Std,
            quantiles = sensitive || c.Quantiles is null ? null : new
            {
                p1 = Show(c.Quantile(0.01)),
                p5 = Show(c.Quantile(0.05)),
                p25 = Show(c.Quantile(0.25)),
                p50 = Show(c.Quantile(0.5)),
                p75 = Show(c.Quantile(0.75)),
                p95 = Show(c.Quantile(0.95)),
                p99 = Show(c.Quantile(0.99)),
            },
            topValues = sensitive ? [] : c.TopValues.Take(20).Select(t => (object)new { value = t.Value, count = t.Count }).ToArray(),
            histogram = !sensitive && c.Histogram is { } h ? new { edges = h.Edges.Select(e => Show(e)), counts = h.Counts } : null,
        };
    }

    private static string Kebab(string name) =>
        string.Concat(name.Select((ch, i) => char.IsUpper(ch) && i > 0 ? "-" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));
}
