using Portal.Domain.Experiments;

namespace Portal.UnitTests.Experiments;

public class RunFilterTests
{
    [Fact]
    public void ReadsMlflowSyntax_WithQuotedKeysAndEveryKindOfField()
    {
        var conditions = RunFilter.Parse("metrics.auc >= 0.8 AND params.depth = '5' and tags.`my tag` != 'x' and attributes.status = 'FINISHED' and run_name LIKE 'gbm-%' and metrics.\"val loss\" < -1e-3");

        Assert.Equal(6, conditions.Count);
        Assert.Equal(new RunCondition(RunField.Metric, "auc", FilterOperator.GreaterOrEqual, null, 0.8, []), conditions[0]);
        Assert.Equal((RunField.Param, "depth", FilterOperator.Equal, "5"), (conditions[1].Field, conditions[1].Key, conditions[1].Operator, conditions[1].Text));
        Assert.Equal((RunField.Tag, "my tag", FilterOperator.NotEqual), (conditions[2].Field, conditions[2].Key, conditions[2].Operator));
        Assert.Equal((RunField.Attribute, "status"), (conditions[3].Field, conditions[3].Key));
        Assert.Equal((RunField.Attribute, "run_name", FilterOperator.Like, "gbm-%"), (conditions[4].Field, conditions[4].Key, conditions[4].Operator, conditions[4].Text));
        Assert.Equal((RunField.Metric, "val loss", -0.001), (conditions[5].Field, conditions[5].Key, conditions[5].Number));
    }

    [Theory]
    [InlineData("metrics.auc > 'high'", "compares with a number")]
    [InlineData("params.depth > 5", "operator > cannot be used with params.depth")]
    [InlineData("metrics.auc > 0.5 or metrics.auc < 0.2", "expected AND")]
    [InlineData("colour = 'red'", "'colour' is not a key")]
    [InlineData("params.depth = '5", "is not closed")]
    [InlineData("metrics.auc >", "missing value")]
    [InlineData("attributes.run_id IN ('a', 'b'", "not closed")]
    public void RefusesWhatItCannotRead_SayingWhy(string filter, string why)
    {
        var error = Assert.Throws<TrackingException>(() => RunFilter.Parse(filter));

        Assert.Equal("INVALID_PARAMETER_VALUE", error.Code);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, RunField.Attribute, "start_time", true)]
    [InlineData("metrics.auc DESC", RunField.Metric, "auc", true)]
    [InlineData("params.depth", RunField.Param, "depth", false)]
    [InlineData("attributes.run_name ASC", RunField.Attribute, "run_name", false)]
    public void OrderBy_DefaultsToNewestFirst(string? orderBy, RunField field, string key, bool descending) =>
        Assert.Equal(new RunOrder(field, key, descending), RunFilter.ParseOrder(orderBy));
}
