using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.Domain.Identity;
using Portal.Domain.Jobs;
using Portal.Domain.Sweeps;

namespace Portal.UnitTests.Builders;

/// <summary>Small builders for domain entities: the people of the demo and entities in a valid starting state.</summary>
public static class Some
{
    public static Actor Scientist { get; } = new("dana@demo.local", [Roles.DataScientist]);

    public static Actor OtherScientist { get; } = new("sam@demo.local", [Roles.DataScientist]);

    public static Actor Reviewer { get; } = new("rita@demo.local", [Roles.RiskReviewer]);

    public static Actor Ops { get; } = new("omar@demo.local", [Roles.Ops]);

    public static Actor Admin { get; } = new("ada@demo.local", [Roles.Admin]);

    public static Job Job(TimeProvider time, Actor? by = null, bool isSystem = false) =>
        Portal.Domain.Jobs.Job.Submit("run-1", 1, "python3 train.py", null,
            new Dictionary<string, string> { ["train"] = "dataset:credit:1" }, new Dictionary<string, string> { ["lr"] = "0.1" },
            TimeSpan.FromMinutes(10), by ?? Scientist, time, isSystem: isSystem);

    public static Sweep GridSweep(TimeProvider time, int maxTrials = 10, Actor? by = null) =>
        Sweep.Create("lr search", 1, "run-parent", "python3 train.py", null, new Dictionary<string, string>(), SweepStrategy.Grid,
            [new ParamSpace("lr", ["0.01", "0.1"]), new ParamSpace("depth", ["3", "5", "7"])],
            "val_auc", ObjectiveDirection.Maximize, maxTrials, 2, 42, by ?? Scientist, time);

    /// <summary>What registering a file found: <paramref name="hash"/> stands for its bytes; failures make it fail validation.</summary>
    public static DatasetVersionContent Content(string hash, params ValidationFailure[] failures) =>
        new(hash, 1024, DatasetFormat.Csv, "credit.csv", 10, [new ColumnSchema("age", ColumnType.Integer, false)],
            new DatasetProfile(10, [], []), new ValidationReport(failures, null, null, [], []), [], []);
}
