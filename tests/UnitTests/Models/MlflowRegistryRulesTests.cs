using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.Domain.Identity;
using Portal.Domain.Models;
using Portal.Infrastructure.Models;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Models;

/// <summary>What the MLflow door may and may not do to the governed registry, and how MLmodel files are read.</summary>
public class MlflowRegistryRulesTests
{
    private static readonly string[] Protected = ["champion", "production"];
    private readonly FixedTime _time = new();

    // As mlflow.sklearn.log_model writes it with PyYAML: the long signature is folded over two lines.
    private const string SklearnMlmodel = """
        artifact_path: model
        flavors:
          python_function:
            env:
              conda: conda.yaml
              virtualenv: python_env.yaml
            loader_module: mlflow.sklearn
            model_path: model.pkl
            predict_fn: predict
            python_version: 3.11.2
          sklearn:
            code: null
            pickled_model: model.pkl
            serialization_format: cloudpickle
            sklearn_version: 1.2.1
        mlflow_version: 2.12.2
        model_size_bytes: 1288
        model_uuid: 6d1f7a0e2b8c4d55a0e6
        run_id: 2f7876b308104259892c91dc890bc90b
        saved_input_example_info:
          artifact_path: input_example.json
          pandas_orient: split
          type: dataframe
        signature:
          inputs: '[{"type": "long", "name": "age", "required": true}, {"type": "double",
            "name": "annual_income", "required": true}, {"type": "string", "name": "employment", "required": false}]'
          outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
          params: null
        utc_time_created: '2026-12-04 21:27:16.348000'
        """;

    [Fact]
    public void AnSklearnMlmodel_GivesItsFlavours_ItsOwnSignature_AndWhereTheInputExampleIs()
    {
        var model = MlflowModel.Parse(SklearnMlmodel);

        Assert.Equal(["python_function", "sklearn"], model.Flavors);
        Assert.Equal(
            [new ColumnSchema("age", ColumnType.Integer, false), new ColumnSchema("annual_income", ColumnType.Float, false), new ColumnSchema("employment", ColumnType.String, true)],
            model.Signature);
        Assert.Equal("input_example.json", model.InputExamplePath);
    }

    [Theory]
    [InlineData("flavors:\n  tensorflow:\n    saved_model_dir: tf\n", "'tensorflow'")]
    [InlineData("artifact_path: model\nrun_id: abc\n", "declares no flavors")]
    [InlineData("", "declares no flavors")]
    public void AnMlmodelTheEvaluationCannotLoad_IsRefusedWithTheReason(string text, string expected)
    {
        var error = Assert.Throws<InvalidInputException>(() => MlflowModel.Parse(text));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("my champion", "no spaces")]
    [InlineData("latest", "reserved")]
    [InlineData("v3", "reserved")]
    [InlineData("", "give an alias")]
    public void AliasNamesMlflowWouldRefuse_AreRefused(string alias, string expected) =>
        Assert.Contains(expected, ModelAliases.Problem(alias), StringComparison.Ordinal);

    [Fact]
    public void AnAliasOf300Characters_IsRefused_AndOneOf255IsAccepted()
    {
        Assert.Contains("at most 255", ModelAliases.Problem(new string('a', 300)), StringComparison.Ordinal);
        Assert.Null(ModelAliases.Problem(new string('a', 255)));
    }

    [Theory]
    [InlineData(ModelState.Registered, false)]
    [InlineData(ModelState.Validated, false)]
    [InlineData(ModelState.Failed, false)]
    [InlineData(ModelState.PendingApproval, false)]
    [InlineData(ModelState.Rejected, false)]
    [InlineData(ModelState.Approved, true)]
    [InlineData(ModelState.Deployed, true)]
    public void AProtectedAliasAndTheProductionStage_NeedAnApprovedOrDeployedVersion(ModelState state, bool allowed)
    {
        var model = RegisteredModel.Create("credit-risk", Some.Scientist, _time);
        var version = In(state);

        if (allowed)
        {
            model.SetAlias("Champion", version, Protected);
            version.SetStage("production");
            Assert.Equal(1, model.Aliases["Champion"]);
            Assert.Equal(ModelStages.Production, version.Stage);
        }
        else
        {
            var alias = Assert.Throws<DomainException>(() => model.SetAlias("champion", version, Protected));
            Assert.Contains("protected", alias.Message, StringComparison.Ordinal);
            Assert.Throws<DomainException>(() => version.SetStage("Staging"));
            Assert.Empty(model.Aliases);
            Assert.Equal(ModelStages.None, version.Stage);
        }

        // Unprotected aliases and taking a label away are always free.
        model.SetAlias("candidate", version, Protected);
        version.SetStage("Archived");
        Assert.Equal(1, model.Aliases["candidate"]);
    }

    [Fact]
    public void TheValidatedRefusal_NamesTheApprovalRequestToOpen()
    {
        var model = RegisteredModel.Create("credit-risk", Some.Scientist, _time);
        var error = Assert.Throws<DomainException>(() => model.SetAlias("champion", In(ModelState.Validated), Protected));
        Assert.Contains("POST /api/v1/models/credit-risk/versions/1/approval-requests", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AVersionHoldingAProtectedAlias_CannotBeReleasedForDeletion_ButAnUnprotectedOneCan()
    {
        var model = RegisteredModel.Create("credit-risk", Some.Scientist, _time);
        var version = In(ModelState.Approved);
        model.SetAlias("champion", version, Protected);
        model.SetAlias("candidate", version, Protected);

        Assert.Throws<DomainException>(() => model.ReleaseAliases(1, Protected));
        Assert.Equal(2, model.Aliases.Count);
        model.DeleteAlias("champion");
        model.ReleaseAliases(1, Protected);
        Assert.Empty(model.Aliases);
    }

    [Fact]
    public void AnUnknownStage_IsRefusedNamingTheFourStages() =>
        Assert.Contains("None, Staging, Production, Archived", Assert.Throws<InvalidInputException>(() => In(ModelState.Approved).SetStage("Prod")).Message, StringComparison.Ordinal);

    [Fact]
    public void RegistryFilters_ReadMlflowSyntax_AndRefuseWhatTheyCannotRead()
    {
        var filter = RegistryFilter.Parse("name = 'credit-risk' AND tags.team = 'risk' and run_id IN ('a', 'b')", MlflowRegistry.VersionKeys);
        var attributes = new Dictionary<string, string> { ["name"] = "credit-risk", ["tags.team"] = "risk", ["run_id"] = "b" };
        Assert.True(filter.Matches(attributes.GetValueOrDefault));
        attributes["run_id"] = "c";
        Assert.False(filter.Matches(attributes.GetValueOrDefault));
        Assert.True(RegistryFilter.Parse("name ILIKE 'CREDIT%'", MlflowRegistry.ModelKeys).Matches(k => k == "name" ? "credit-risk" : null));
        Assert.False(RegistryFilter.Parse("name LIKE 'CREDIT%'", MlflowRegistry.ModelKeys).Matches(k => k == "name" ? "credit-risk" : null));

        Assert.Contains("not searchable", Assert.Throws<Portal.Domain.Experiments.TrackingException>(() => RegistryFilter.Parse("owner = 'x'", MlflowRegistry.ModelKeys)).Message, StringComparison.Ordinal);
        Assert.Contains("could not read", Assert.Throws<Portal.Domain.Experiments.TrackingException>(() => RegistryFilter.Parse("name == credit", MlflowRegistry.ModelKeys)).Message, StringComparison.Ordinal);
    }

    private ModelVersion In(ModelState state)
    {
        var version = ModelVersion.Register("credit-risk", 1, "0123456789abcdef0123456789abcdef", "model", new string('a', 64), Some.Scientist, _time);
        switch (state)
        {
            case ModelState.Registered:
                break;
            case ModelState.Failed:
                version.FailValidation("slices", _time);
                break;
            default:
                version.PassValidation(_time);
                if (state == ModelState.Validated)
                {
                    break;
                }

                version.RequestApproval(_time);
                if (state == ModelState.Rejected)
                {
                    version.Reject("no", _time);
                }
                else if (state != ModelState.PendingApproval)
                {
                    version.Approve(_time);
                    if (state == ModelState.Deployed)
                    {
                        version.Deploy(_time);
                    }
                }

                break;
        }

        return version;
    }
}
