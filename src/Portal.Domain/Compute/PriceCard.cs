using System.Globalization;
using Portal.Domain.Common;

namespace Portal.Domain.Compute;

/// <summary>What a price card is set to (the API's and the Admin editor's shape).</summary>
public sealed record PriceCardSpec(string Compute, decimal PricePerHour, int GpusPerInstance, string Currency, DateTime ValidFrom, DateTime? ValidTo, string? Note = null);

/// <summary>
/// The price of one compute kind or VM size per instance-hour, valid over a period. A GPU card's price per
/// GPU-hour is its instance price shared by its GPUs: a run holding 2 of 8 GPUs pays a quarter of the VM.
/// Cards of one compute never overlap in time, so every moment has at most one price.
/// </summary>
public sealed class PriceCard : Entity
{
    public const int MaxGpus = 64;

    private PriceCard()
    {
    }

    public Guid Id { get; private set; }

    /// <summary>The compute kind or VM size it prices (<c>local</c>, <c>Standard_NC24ads_A100_v4</c>).</summary>
    public string Compute { get; private set; } = "";

    /// <summary>Price of one instance for one hour.</summary>
    public decimal PricePerHour { get; private set; }

    /// <summary>GPUs per instance; 0 for a CPU-only kind.</summary>
    public int GpusPerInstance { get; private set; }

    public string Currency { get; private set; } = "";

    public DateTime ValidFrom { get; private set; }

    /// <summary>End of validity (exclusive); null: until further notice.</summary>
    public DateTime? ValidTo { get; private set; }

    public string? Note { get; private set; }

    /// <summary>Shipped as an example to edit, not a price anyone agreed.</summary>
    public bool IsExample { get; private set; }

    public string ChangedBy { get; private set; } = "";

    public DateTime ChangedAt { get; private set; }

    public decimal? PricePerGpuHour => GpusPerInstance > 0 ? PricePerHour / GpusPerInstance : null;

    public bool Covers(DateTime at) => at >= ValidFrom && (ValidTo is null || at < ValidTo);

    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Compute}: {PricePerHour:0.####} {Currency}/h{(GpusPerInstance > 0 ? $" for {GpusPerInstance} GPU(s)" : "")}, from {ValidFrom:yyyy-MM-dd}{(ValidTo is { } to ? $" to {to:yyyy-MM-dd}" : "")}");

    /// <summary>A new card; refused with every problem named when it is invalid or overlaps a card of the same compute.</summary>
    public static PriceCard Create(PriceCardSpec spec, string portalCurrency, IEnumerable<PriceCard> existing, Actor actor, TimeProvider time, bool isExample = false)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var card = new PriceCard { Id = Guid.NewGuid(), IsExample = isExample };
        card.Apply(spec, portalCurrency, existing, actor.Name, time);
        return card;
    }

    public void Change(PriceCardSpec spec, string portalCurrency, IEnumerable<PriceCard> existing, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        Apply(spec, portalCurrency, existing, actor.Name, time);

        // Someone has looked at it and saved it: it is a price now, not an example.
        IsExample = false;
    }

    private void Apply(PriceCardSpec spec, string portalCurrency, IEnumerable<PriceCard> existing, string who, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new FieldErrors();
        var compute = spec.Compute?.Trim() ?? "";
        if (ComputeProblem(compute) is { } computeProblem)
        {
            errors.Add("compute", computeProblem);
        }

        if (spec.PricePerHour < 0)
        {
            errors.Add("pricePerHour", string.Create(CultureInfo.InvariantCulture, $"pricePerHour: a price cannot be negative (got {spec.PricePerHour})."));
        }
        else if (spec.PricePerHour > 100_000)
        {
            errors.Add("pricePerHour", "pricePerHour: more than 100,000 an hour is surely a typing error.");
        }

        if (spec.GpusPerInstance is < 0 or > MaxGpus)
        {
            errors.Add("gpusPerInstance", $"gpusPerInstance: between 0 (a CPU-only kind) and {MaxGpus}.");
        }

        var currency = spec.Currency?.Trim().ToUpperInvariant() ?? "";
        if (!string.Equals(currency, portalCurrency, StringComparison.Ordinal))
        {
            errors.Add("currency", $"currency: the portal keeps its costs in {portalCurrency} (Portal:Cost:Currency); '{Names.Visible(spec.Currency)}' prices cannot be added to them.");
        }

        var from = AsUtc(spec.ValidFrom);
        var to = spec.ValidTo is { } t ? AsUtc(t) : (DateTime?)null;
        if (to is { } end && end <= from)
        {
            errors.Add("validTo", "validTo: must be after validFrom.");
        }

        if (errors.IsEmpty)
        {
            var clash = existing.FirstOrDefault(c => c.Id != Id && string.Equals(c.Compute, compute, StringComparison.OrdinalIgnoreCase)
                && from < (c.ValidTo ?? DateTime.MaxValue) && c.ValidFrom < (to ?? DateTime.MaxValue));
            if (clash is not null)
            {
                errors.Add("validFrom", $"validFrom: overlaps the card {clash.Describe()}; end that card first or pick dates outside it.");
            }
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        Compute = compute;
        PricePerHour = spec.PricePerHour;
        GpusPerInstance = spec.GpusPerInstance;
        Currency = currency;
        ValidFrom = from;
        ValidTo = to;
        Note = string.IsNullOrWhiteSpace(spec.Note) ? null : spec.Note.Trim();
        ChangedBy = who;
        ChangedAt = time.UtcNow();
    }

    /// <summary>Why a compute name cannot be used: letters, digits, '_', '-' and '.', at most 64.</summary>
    public static string? ComputeProblem(string? compute)
    {
        if (string.IsNullOrEmpty(compute))
        {
            return "compute: name the compute kind or VM size the price is for (e.g. local, Standard_NC24ads_A100_v4).";
        }

        return compute.Length <= 64 && Names.All(compute, c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')
            ? null
            : $"compute: '{Names.Visible(compute)}' is not a compute name; use letters, digits, '_', '-' and '.', at most 64.";
    }

    private static DateTime AsUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => Clock.Truncate(value),
        DateTimeKind.Local => Clock.Truncate(value.ToUniversalTime()),
        _ => Clock.Truncate(DateTime.SpecifyKind(value, DateTimeKind.Utc)),
    };
}
