using System.Globalization;
using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.Options;
using Portal.Domain.Common;
using Portal.Domain.Compute;
using Portal.Domain.Identity;
using Portal.Features.Navigation;
using Portal.Infrastructure.Compute;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Http;
using Portal.Security;

namespace Portal.Api;

/// <summary>
/// GPU telemetry (pushed by agents; read by everyone who may open Compute &amp; GPU), costs, price cards,
/// budgets and cost-export reconciliation (read by everyone who may open Cost; changed by Ops and
/// administrators, price cards by administrators).
/// </summary>
internal static class ComputeApi
{
    public static void MapComputeApi(this RouteGroupBuilder api)
    {
        var telemetry = api.MapGroup("/telemetry").WithTags("GPU telemetry");
        telemetry.MapPost("/gpu", PushAsync).RequireAuthorization()
            .WithSummary("Push GPU readings (Ops, Admin): nvidia-smi --query-gpu CSV (with or without header/units) or DCGM exporter text; ?host= (required), &compute=, &timeZone= (IANA, for nvidia-smi's local timestamps), &intervalSeconds=. Stored whole or refused whole.");
        telemetry.MapGet("/devices", DevicesAsync).RequireAuthorization(PortalAreas.Policies.Compute).WithSummary("GPUs with their newest reading and holder (?host=&compute=)");
        telemetry.MapGet("/heatmap", HeatmapAsync).RequireAuthorization(PortalAreas.Policies.Compute).WithSummary("Busy % per GPU and time bucket (?from=&to=&host=&compute=&columns=)");
        telemetry.MapGet("/idle", IdleAsync).RequireAuthorization(PortalAreas.Policies.Compute).WithSummary("Idle GPU allocations (?from=&to=&team=)");
        telemetry.MapGet("/runs/{runId}", RunAsync).RequireAuthorization(PortalAreas.Policies.Compute).WithSummary("A run's GPU use and cost");

        var costs = api.MapGroup("/costs").WithTags("Cost").RequireAuthorization(PortalAreas.Policies.Cost);
        costs.MapGet("/", CostsAsync).WithSummary("Costs grouped by team|user|experiment|model|endpoint|compute|owner over ?from=&to= (default: this month), &team=&compute=, &format=csv");
        costs.MapGet("/series", SeriesAsync).WithSummary("Cost per hour or day, one series per group (?groupBy=&from=&to=&team=&compute=)");

        var cards = api.MapGroup("/price-cards").WithTags("Cost").RequireAuthorization(PortalAreas.Policies.Cost);
        cards.MapGet("/", CardsAsync).WithSummary("Price cards");
        cards.MapPost("/", CreateCardAsync).WithSummary("A new price card (Admin): {compute, pricePerHour, gpusPerInstance, currency, validFrom, validTo?, note?}");
        cards.MapPut("/{id:guid}", UpdateCardAsync).WithSummary("Change a price card (Admin)");
        cards.MapDelete("/{id:guid}", DeleteCardAsync).WithSummary("Delete a price card (Admin)");

        var budgets = api.MapGroup("/budgets").WithTags("Cost").RequireAuthorization(PortalAreas.Policies.Cost);
        budgets.MapGet("/", BudgetsAsync).WithSummary("Budgets with this month's spending, share and month-end forecast");
        budgets.MapPut("/", SaveBudgetAsync).WithSummary("Set a monthly budget (Ops, Admin): {scope: Team|Experiment, key, monthlyAmount}");
        budgets.MapDelete("/{id:guid}", DeleteBudgetAsync).WithSummary("Delete a budget (Ops, Admin)");

        var imports = api.MapGroup("/cost-imports").WithTags("Cost").RequireAuthorization(PortalAreas.Policies.Cost);
        imports.MapGet("/", ImportsAsync).WithSummary("Imported Azure cost exports");
        imports.MapPost("/", ImportAsync).WithSummary("Import an Azure Cost Management export (EA, MCA or FOCUS CSV as the body; ?fileName=) → its reconciliation (Ops, Admin)");
        imports.MapGet("/{id:guid}", ReconcileAsync).WithSummary("Actual cost per resource beside the portal's estimate");
    }

    public sealed record CardBody(string? Compute, decimal? PricePerHour, int? GpusPerInstance, string? Currency, DateTime? ValidFrom, DateTime? ValidTo, string? Note);

    public sealed record BudgetBody(string? Scope, string? Key, decimal? MonthlyAmount);

    private static async Task<IResult> PushAsync(HttpRequest request, string? host, string? compute, string? timeZone, double? intervalSeconds,
        TelemetryIngestor ingestor, IOptions<PortalOptions> options, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var actor = user.ToActor();
        if (!actor.IsIn(Roles.Ops) && !actor.IsIn(Roles.Admin))
        {
            throw new NotPermittedException("Only Ops and administrators (and agents with their tokens) push GPU telemetry.");
        }

        var errors = new FieldErrors();
        if (TelemetryIngestor.HostProblem(host) is { } hostProblem)
        {
            errors.Add("host", string.IsNullOrEmpty(host) ? "host: say which host the readings are from (?host=gpu-node-1)." : hostProblem);
        }

        if (compute is not null && PriceCard.ComputeProblem(compute) is { } computeProblem)
        {
            errors.Add("compute", computeProblem);
        }

        var zone = TimeZoneInfo.Local;
        if (timeZone is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out zone))
        {
            errors.Add("timeZone", $"timeZone: '{Names.Visible(timeZone)}' is not a time zone (use an IANA name such as Europe/Berlin or UTC).");
        }

        if (intervalSeconds is { } interval && (interval <= 0 || interval > 3600 || !double.IsFinite(interval)))
        {
            errors.Add("intervalSeconds", "intervalSeconds: between 0 and 3600.");
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        var limits = options.Value.Telemetry;
        if (await BoundedBody.ReadAsync(request, limits.MaxBodyBytes, cancellationToken) is not { } body)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Body too large",
                detail: $"A telemetry body is at most {limits.MaxBodyMegabytes:N0} MB (Portal:Telemetry:MaxBodyMegabytes); push more often or in parts. Nothing was stored.");
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(body);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidInputException("body", "body: not UTF-8 text; send nvidia-smi CSV or DCGM exporter text.");
        }

        IReadOnlyList<GpuReading> readings;
        if (DcgmText.LooksLikeDcgm(text))
        {
            readings = DcgmText.Parse(text, time.GetUtcNow().UtcDateTime);
        }
        else if (NvidiaSmiCsv.IsAppsQuery(text))
        {
            throw new InvalidInputException("body", "body: this is --query-compute-apps output; push the --query-gpu readings (process ids mean nothing off their host).");
        }
        else if (NvidiaSmiCsv.LooksLikeCsv(text))
        {
            readings = NvidiaSmiCsv.ParseGpus(text, zone!);
        }
        else
        {
            throw new InvalidInputException("body", $"body: neither nvidia-smi CSV ({NvidiaSmiCsv.GpuQueryArguments}) nor DCGM exporter text (DCGM_FI_… metrics).");
        }

        if (readings.Count == 0)
        {
            throw new InvalidInputException("body", "body: no GPU readings in it.");
        }

        var result = await ingestor.IngestAsync(new TelemetryBatch(host!, "push", readings, []),
            new IngestSettings(compute, intervalSeconds is { } s ? TimeSpan.FromSeconds(s) : null), cancellationToken);
        return TypedResults.Ok(new { stored = result.Stored, skipped = result.Skipped, newDevices = result.NewDevices, hosts = result.Hosts });
    }

    private static async Task<IResult> DevicesAsync(string? host, string? compute, TelemetryQueries queries, CancellationToken cancellationToken) =>
        TypedResults.Ok((await queries.FleetAsync(new FleetFilter(host, compute), cancellationToken)).Select(r => new
        {
            id = r.Device.Id, host = r.Device.Host, uuid = r.Device.Uuid, deviceKey = r.Device.DeviceKey, index = r.Device.Index, name = r.Device.Name,
            migProfile = r.Device.MigProfile, compute = r.Device.Compute, simulated = r.Device.Simulated, lastSeen = r.Device.LastSeen, stale = r.Stale,
            busyPercent = r.Device.LastBusy * 100, memoryUsedMiB = r.Device.LastMemoryUsedMiB, memoryTotalMiB = r.Device.MemoryTotalMiB,
            powerW = r.Device.LastPowerW, temperatureC = r.Device.LastTemperatureC, owner = r.Device.LastOwner.Length > 0 ? r.Device.LastOwner : null, ownerLabel = r.OwnerLabel, team = r.Team,
        }));

    private static async Task<IResult> HeatmapAsync(DateTime? from, DateTime? to, string? host, string? compute, int? columns, TelemetryQueries queries, TimeProvider time, CancellationToken cancellationToken)
    {
        var (start, end) = Period(from, to, time, TimeSpan.FromHours(24));
        var map = await queries.HeatmapAsync(start, end, new FleetFilter(host, compute), Math.Clamp(columns ?? 168, 1, 1000), cancellationToken);
        return TypedResults.Ok(new { resolution = map.Resolution, devices = map.Devices.Select(d => new { d.Id, d.Host, d.Index, label = d.Label }), buckets = map.Buckets, busyPercent = map.Busy });
    }

    private static async Task<IResult> IdleAsync(DateTime? from, DateTime? to, string? team, TelemetryQueries queries, TimeProvider time, CancellationToken cancellationToken)
    {
        var (start, end) = Period(from, to, time, TimeSpan.FromDays(7));
        return TypedResults.Ok((await queries.IdleAsync(start, end, team, cancellationToken)).Select(r => new
        {
            owner = r.Stretch.Owner, ownerLabel = r.OwnerLabel, r.User, r.Team, device = r.Device, startedAt = r.Stretch.StartedAt, minutes = Math.Round(r.Minutes),
            meanBusyPercent = Math.Round(r.Stretch.MeanBusy * 100, 1), wasted = r.Stretch.Flagged, ended = r.Stretch.Ended, idleGpuHours = Math.Round(r.Stretch.IdleSeconds / 3600, 3), idleGpuHoursInPeriod = Math.Round(r.IdleSecondsInPeriod / 3600, 3), cost = r.Cost,
        }));
    }

    private static async Task<IResult> RunAsync(string runId, TelemetryQueries queries, CancellationToken cancellationToken) =>
        TypedResults.Ok(await queries.RunUsageAsync(runId, cancellationToken));

    private static async Task<IResult> CostsAsync(string? groupBy, DateTime? from, DateTime? to, string? team, string? compute, string? format,
        CostReports reports, TimeProvider time, CancellationToken cancellationToken)
    {
        var group = Group(groupBy);
        var (start, end) = MonthToDate(from, to, time);
        var report = await reports.ReportAsync(group, start, end, new CostFilter(Blank(team), Blank(compute)), cancellationToken);
        if (string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase))
        {
            var csv = SafeCsv.Write(new[] { new[] { group.ToString().ToLowerInvariant(), "gpuHours", "computeHours", $"cost ({report.Currency})", "efficiency", "idleCost", "wastedGpuHours", "wastedCost", "energyKWh" } }
                .Concat(report.Rows.Select(r => new[]
                {
                    r.Key, Number(r.GpuHours), Number(r.ComputeHours), Number(r.Cost), r.Efficiency is { } e ? Number(e) : "", Number(r.IdleCost), Number(r.WastedGpuHours), Number(r.WastedCost), Number(r.EnergyKWh),
                })));
            return TypedResults.File(Encoding.UTF8.GetBytes(csv), "text/csv", $"costs-by-{group.ToString().ToLowerInvariant()}-{start:yyyyMMdd}-{end:yyyyMMdd}.csv");
        }

        return TypedResults.Ok(new
        {
            currency = report.Currency, from = report.From, to = report.To, groupBy = group.ToString().ToLowerInvariant(),
            rows = report.Rows.Select(r => new
            {
                key = r.Key, gpuHours = Math.Round(r.GpuHours, 4), computeHours = Math.Round(r.ComputeHours, 4), cost = Math.Round(r.Cost, 2),
                efficiency = r.Efficiency is { } e ? Math.Round(e, 4) : (double?)null, idleCost = Math.Round(r.IdleCost, 2),
                wastedGpuHours = Math.Round(r.WastedGpuHours, 4), wastedCost = Math.Round(r.WastedCost, 2), energyKWh = Math.Round(r.EnergyKWh, 3),
            }),
            total = Math.Round(report.Total, 2), unallocatedGpuHours = Math.Round(report.UnallocatedGpuHours, 4), unallocatedCost = Math.Round(report.UnallocatedCost, 2), unpriced = report.Unpriced,
        });
    }

    private static async Task<IResult> SeriesAsync(string? groupBy, DateTime? from, DateTime? to, string? team, string? compute, CostReports reports, TimeProvider time, CancellationToken cancellationToken)
    {
        var (start, end) = MonthToDate(from, to, time);
        var series = await reports.SeriesAsync(Group(groupBy), start, end, new CostFilter(Blank(team), Blank(compute)), 12, cancellationToken);
        return TypedResults.Ok(new { currency = series.Currency, buckets = series.Buckets, series = series.Keys.Select(k => new { key = k.Key, costs = k.Costs }) });
    }

    private static async Task<IResult> CardsAsync(CostService costs, CancellationToken cancellationToken) => TypedResults.Ok(await costs.PriceCardsAsync(cancellationToken));

    private static async Task<IResult> CreateCardAsync(CardBody? body, CostService costs, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var card = await costs.SavePriceCardAsync(null, Spec(body, costs.Currency), user.ToActor(), cancellationToken);
        return TypedResults.Created($"/api/v1/price-cards/{card.Id}", card);
    }

    private static async Task<IResult> UpdateCardAsync(Guid id, CardBody? body, CostService costs, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await costs.SavePriceCardAsync(id, Spec(body, costs.Currency), user.ToActor(), cancellationToken));

    private static async Task<IResult> DeleteCardAsync(Guid id, CostService costs, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await costs.DeletePriceCardAsync(id, user.ToActor(), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> BudgetsAsync(CostReports reports, CancellationToken cancellationToken) =>
        TypedResults.Ok((await reports.BudgetsAsync(cancellationToken)).Select(s => new
        {
            id = s.Budget.Id, scope = s.Budget.Scope.ToString(), key = s.Budget.Key, monthlyAmount = s.Budget.MonthlyAmount, currency = s.Budget.Currency,
            spent = Math.Round(s.Spent, 2), percent = Math.Round(s.Percent, 1), alertedPercent = s.Budget.AlertedPercent,
            forecast = new { projected = Math.Round(s.Forecast.Projected, 2), low = Math.Round(s.Forecast.Low, 2), high = Math.Round(s.Forecast.High, 2), dailyRate = Math.Round(s.Forecast.DailyRate, 2), fewDays = s.Forecast.FewDays },
            dailyCosts = s.DailyCosts,
        }));

    private static async Task<IResult> SaveBudgetAsync(BudgetBody? body, CostService costs, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        if (!Enum.TryParse<BudgetScope>(body?.Scope, ignoreCase: true, out var scope) || !Enum.IsDefined(scope) || int.TryParse(body?.Scope, out _))
        {
            errors.Add("scope", "scope: Team or Experiment.");
        }

        if (body?.MonthlyAmount is null)
        {
            errors.Add("monthlyAmount", "monthlyAmount: give the monthly amount.");
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        return TypedResults.Ok(await costs.SaveBudgetAsync(scope, body!.Key ?? "", body.MonthlyAmount!.Value, user.ToActor(), cancellationToken));
    }

    private static async Task<IResult> DeleteBudgetAsync(Guid id, CostService costs, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await costs.DeleteBudgetAsync(id, user.ToActor(), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ImportsAsync(CostService costs, CancellationToken cancellationToken) => TypedResults.Ok(await costs.ImportsAsync(cancellationToken));

    private static async Task<IResult> ImportAsync(HttpRequest request, string? fileName, CostService costs, IOptions<PortalOptions> options, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!CostService.MayManageBudgets(user.ToActor()))
        {
            throw new NotPermittedException("Only Ops and administrators import cost exports.");
        }

        var limit = options.Value.Cost.MaxImportMegabytes * 1024L * 1024;
        if (await BoundedBody.ReadAsync(request, limit, cancellationToken) is not { } body)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "Export too large",
                detail: $"A cost export is at most {options.Value.Cost.MaxImportMegabytes:N0} MB (Portal:Cost:MaxImportMegabytes); export a shorter period. Nothing was imported.");
        }

        var reconciliation = await costs.ImportAsync(fileName ?? "export.csv", Encoding.UTF8.GetString(body), user.ToActor(), cancellationToken);
        return TypedResults.Created($"/api/v1/cost-imports/{reconciliation.Import.Id}", Shape(reconciliation));
    }

    private static async Task<IResult> ReconcileAsync(Guid id, CostService costs, CancellationToken cancellationToken) => TypedResults.Ok(Shape(await costs.ReconcileAsync(id, cancellationToken)));

    private static object Shape(Reconciliation r) => new
    {
        id = r.Import.Id, fileName = r.Import.FileName, format = r.Import.Format, currency = r.Import.Currency, periodStart = r.Import.PeriodStart, periodEnd = r.Import.PeriodEnd,
        actual = Math.Round(r.Actual, 2), estimate = Math.Round(r.Estimate, 2),
        rows = r.Rows.Select(x => new
        {
            resource = x.Resource, endpoint = x.Endpoint, deployment = x.Deployment, actual = Math.Round(x.Actual, 2), estimate = x.Estimate is { } e ? Math.Round(e, 2) : (decimal?)null,
            difference = x.Difference is { } d ? Math.Round(d, 2) : (decimal?)null, differenceShare = x.DifferenceShare is { } s ? Math.Round(s, 4) : (double?)null,
        }),
    };

    private static PriceCardSpec Spec(CardBody? body, string currency)
    {
        var errors = new FieldErrors();
        if (body?.PricePerHour is null)
        {
            errors.Add("pricePerHour", "pricePerHour: give the price of one instance for one hour.");
        }

        if (body?.ValidFrom is null)
        {
            errors.Add("validFrom", "validFrom: give the date the price starts to apply.");
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        return new PriceCardSpec(body!.Compute ?? "", body.PricePerHour!.Value, body.GpusPerInstance ?? 0, body.Currency ?? currency, body.ValidFrom!.Value, body.ValidTo, body.Note);
    }

    private static CostGroup Group(string? groupBy)
    {
        if (groupBy is null)
        {
            return CostGroup.Team;
        }

        return Enum.TryParse<CostGroup>(groupBy, ignoreCase: true, out var group) && Enum.IsDefined(group) && !int.TryParse(groupBy, out _)
            ? group
            : throw new InvalidInputException("groupBy", $"groupBy: '{Names.Visible(groupBy)}' is not one of team, user, experiment, model, endpoint, compute, owner.");
    }

    private static (DateTime From, DateTime To) MonthToDate(DateTime? from, DateTime? to, TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return (from is { } f ? Utc(f) : new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc), to is { } t ? Utc(t) : now.AddHours(1));
    }

    private static (DateTime From, DateTime To) Period(DateTime? from, DateTime? to, TimeProvider time, TimeSpan back)
    {
        var end = to is { } t ? Utc(t) : time.GetUtcNow().UtcDateTime;
        var start = from is { } f ? Utc(f) : end - back;
        if (end <= start)
        {
            throw new InvalidInputException("to", "to: the period must end after it starts.");
        }

        return (start, end);
    }

    private static DateTime Utc(DateTime value) => value.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(value, DateTimeKind.Utc) : value.ToUniversalTime();

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    private static string Number(decimal value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
