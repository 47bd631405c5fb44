using System.Globalization;
using Portal.Domain.Common;

namespace Portal.Domain.Compute;

public enum BudgetScope
{
    Team,
    Experiment,
}

/// <summary>
/// A monthly spending limit for a team or an experiment. Crossing 50, 80 and 100 % of it raises an alert
/// once per threshold per month; the month's record is kept here so a restart does not raise them again.
/// </summary>
public sealed class Budget : Entity
{
    public static readonly IReadOnlyList<int> Thresholds = [50, 80, 100];

    private Budget()
    {
    }

    public Guid Id { get; private set; }

    public BudgetScope Scope { get; private set; }

    /// <summary>The team's name or the experiment's name.</summary>
    public string Key { get; private set; } = "";

    public decimal MonthlyAmount { get; private set; }

    public string Currency { get; private set; } = "";

    public string CreatedBy { get; private set; } = "";

    public DateTime CreatedAt { get; private set; }

    /// <summary>The month (<c>yyyy-MM</c>) the alerted threshold belongs to.</summary>
    public string? AlertedMonth { get; private set; }

    /// <summary>The highest threshold already alerted in <see cref="AlertedMonth"/> (0: none).</summary>
    public int AlertedPercent { get; private set; }

    public string Label => $"{(Scope == BudgetScope.Team ? "team" : "experiment")} {Key}";

    public string Source => $"budget:{(Scope == BudgetScope.Team ? "team" : "experiment")}:{Key}";

    public static Budget Create(BudgetScope scope, string key, decimal monthlyAmount, string currency, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var errors = new FieldErrors();
        var trimmed = key?.Trim() ?? "";
        if (Names.FreeTextProblem(trimmed, "key", 200) is { } keyProblem)
        {
            errors.Add("key", keyProblem);
        }

        if (AmountProblem(monthlyAmount) is { } amountProblem)
        {
            errors.Add("monthlyAmount", amountProblem);
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        return new Budget
        {
            Id = Guid.NewGuid(),
            Scope = scope,
            Key = trimmed,
            MonthlyAmount = monthlyAmount,
            Currency = currency,
            CreatedBy = actor.Name,
            CreatedAt = time.UtcNow(),
        };
    }

    public void ChangeAmount(decimal monthlyAmount)
    {
        if (AmountProblem(monthlyAmount) is { } problem)
        {
            throw new InvalidInputException("monthlyAmount", problem);
        }

        MonthlyAmount = monthlyAmount;

        // A new amount is a new question: thresholds already passed under the old one may be passed again.
        AlertedPercent = 0;
    }

    private static string? AmountProblem(decimal amount) => amount switch
    {
        <= 0 => string.Create(CultureInfo.InvariantCulture, $"monthlyAmount: a budget must be more than 0 (got {amount}); delete the budget to stop tracking."),
        > 100_000_000 => "monthlyAmount: more than 100,000,000 a month is surely a typing error.",
        _ => null,
    };

    /// <summary>The share of the budget <paramref name="spent"/> is, in percent (never NaN: the amount is positive).</summary>
    public double PercentOf(decimal spent) => (double)(spent / MonthlyAmount * 100m);

    /// <summary>
    /// Spending so far this month was <paramref name="spent"/>: the thresholds it crossed that were not alerted
    /// yet this month, lowest first. They are recorded as alerted.
    /// </summary>
    public IReadOnlyList<int> Observe(decimal spent, DateTime now)
    {
        var month = now.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        if (AlertedMonth != month)
        {
            AlertedMonth = month;
            AlertedPercent = 0;
        }

        var percent = PercentOf(spent);
        var crossed = Thresholds.Where(t => t > AlertedPercent && percent >= t).ToList();
        if (crossed.Count > 0)
        {
            AlertedPercent = crossed[^1];
        }

        return crossed;
    }
}
