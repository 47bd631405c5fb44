using Portal.Domain.Common;
using Portal.Domain.Compute;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Compute;

/// <summary>Price cards, budgets, the forecast and efficiency: the rules, alone.</summary>
public sealed class CostRulesTests
{
    private readonly FixedTime _time = new();

    private static PriceCardSpec H100(DateTime from, DateTime? to = null, decimal price = 98.32m) =>
        new("Standard_ND96isr_H100_v5", price, 8, "USD", from, to);

    [Fact]
    public void AGpuCard_SharesTheInstancePriceByItsGpus()
    {
        var card = PriceCard.Create(H100(new DateTime(2026, 1, 1)), "USD", [], Some.Admin, _time);

        Assert.Equal(12.29m, card.PricePerGpuHour);
        Assert.True(card.Covers(new DateTime(2026, 6, 1, 0, 0, 0, DateTimeKind.Utc)));
        Assert.False(card.Covers(new DateTime(2025, 12, 31, 0, 0, 0, DateTimeKind.Utc)));
    }

    [Fact]
    public void CardsOfOneCompute_MayNotOverlap_ButMayFollowEachOther()
    {
        var first = PriceCard.Create(H100(new DateTime(2026, 1, 1), new DateTime(2026, 7, 1)), "USD", [], Some.Admin, _time);

        var overlap = Assert.Throws<InvalidInputException>(() => PriceCard.Create(H100(new DateTime(2026, 6, 1)), "USD", [first], Some.Admin, _time));
        Assert.Contains("validFrom", overlap.Errors.Fields);
        Assert.Contains("overlaps", overlap.Message, StringComparison.Ordinal);

        var next = PriceCard.Create(H100(new DateTime(2026, 7, 1), price: 90m), "USD", [first], Some.Admin, _time);
        Assert.Equal(90m, next.PricePerHour);
        var other = PriceCard.Create(new PriceCardSpec("Standard_NC24ads_A100_v4", 3.67m, 1, "USD", new DateTime(2026, 1, 1), null), "USD", [first, next], Some.Admin, _time);
        Assert.Equal(3.67m, other.PricePerGpuHour);
    }

    [Fact]
    public void ABadCard_IsRefusedNamingEveryField()
    {
        var refused = Assert.Throws<InvalidInputException>(() =>
            PriceCard.Create(new PriceCardSpec("bad name!", -1m, 99, "EUR", new DateTime(2026, 2, 1), new DateTime(2026, 1, 1)), "USD", [], Some.Admin, _time));

        Assert.Equal(["compute", "pricePerHour", "gpusPerInstance", "currency", "validTo"], refused.Errors.Fields.ToArray());
    }

    [Fact]
    public void ABudget_OfZero_IsRefused()
    {
        var refused = Assert.Throws<InvalidInputException>(() => Budget.Create(BudgetScope.Team, "vision", 0m, "USD", Some.Ops, _time));

        Assert.Contains("monthlyAmount", refused.Errors.Fields);
        Assert.Contains("more than 0", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ABudget_AlertsEachThresholdOncePerMonth_AndAgainNextMonth()
    {
        var budget = Budget.Create(BudgetScope.Team, "vision", 1000m, "USD", Some.Ops, _time);
        var november = new DateTime(2026, 11, 20, 0, 0, 0, DateTimeKind.Utc);

        Assert.Empty(budget.Observe(400m, november));
        Assert.Equal([50], budget.Observe(500m, november));
        Assert.Empty(budget.Observe(700m, november));
        Assert.Equal([80, 100], budget.Observe(1200m, november));
        Assert.Empty(budget.Observe(1300m, november));
        Assert.Equal([50], budget.Observe(600m, november.AddDays(12)));
    }

    [Fact]
    public void TheForecast_ExtendsTheBurnRate_WithARangeFromTheDailySpread()
    {
        // Ten complete days at about 100 a day and today half gone at 50: roughly 100 a day for 30 days.
        decimal[] daily = [90m, 110m, 95m, 105m, 100m, 98m, 102m, 97m, 103m, 100m, 50m];
        var now = new DateTime(2026, 11, 11, 12, 0, 0, DateTimeKind.Utc);

        var forecast = CostMath.Forecast(daily, now);

        Assert.Equal(1050m, forecast.Spent);
        Assert.InRange(forecast.Projected, 2950m, 3050m);
        Assert.True(forecast.Low < forecast.Projected && forecast.Projected < forecast.High);
        Assert.True(forecast.Low >= forecast.Spent);
        Assert.InRange(forecast.High - forecast.Low, 50m, 300m);
        Assert.False(forecast.FewDays);
    }

    [Fact]
    public void TheForecast_OnTheFirstHourOfAMonth_DoesNotDivideByZero()
    {
        var forecast = CostMath.Forecast([0m], new DateTime(2026, 12, 1, 0, 0, 0, DateTimeKind.Utc));

        Assert.Equal(0m, forecast.Projected);
        Assert.True(forecast.FewDays);
    }

    [Fact]
    public void Efficiency_IsBusyOverAllocated_AndNothingAllocatedIsNoFigure()
    {
        Assert.Equal(0.25, CostMath.Efficiency(900, 3600));
        Assert.Null(CostMath.Efficiency(0, 0));
        Assert.Equal(75m, CostMath.IdleCost(100m, 900, 3600));
        Assert.Equal(0m, CostMath.IdleCost(100m, 0, 0));
    }
}
