using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Datasets;
using Portal.Domain.Models;
using Portal.Domain.Ports;
using Portal.Infrastructure.Persistence;

namespace Portal.UnitTests.Builders;

/// <summary>
/// Approved model versions made for serving tests, stored in the portal's artifact store exactly as the registry
/// stores them: MLflow python_function folders whose loader module (MLflow's <c>code</c> + <c>_load_pyfunc</c>
/// convention) behaves as a test needs — answers, crashes on load, hangs, answers garbage — and a real
/// scikit-learn bundle like the samples write.
/// </summary>
public static class ServedModels
{
    public static readonly IReadOnlyList<ColumnSchema> XSignature = [new ColumnSchema("x", ColumnType.Float, false)];

    /// <summary>Doubles x; a fast, well-behaved model.</summary>
    public const string Doubler = """
        class Model:
            def predict(self, frame):
                return [float(v) * 2 for v in frame["x"]]

        def _load_pyfunc(path):
            return Model()
        """;

    /// <summary>Fails (500) for negative x, like a model with a bug for some inputs.</summary>
    public const string FailsOnNegatives = """
        class Model:
            def predict(self, frame):
                if any(float(v) < 0 for v in frame["x"]):
                    raise ValueError("negative x is not supported")
                return [float(v) * 2 for v in frame["x"]]

        def _load_pyfunc(path):
            return Model()
        """;

    public const string CrashesOnLoad = """
        def _load_pyfunc(path):
            raise RuntimeError("the weights file is corrupt")
        """;

    public const string HangsOnLoad = """
        import time

        def _load_pyfunc(path):
            print("loading weights...", flush=True)
            time.sleep(3600)
        """;

    public const string HangsOnRequest = """
        import time

        class Model:
            def predict(self, frame):
                time.sleep(3600)

        def _load_pyfunc(path):
            return Model()
        """;

    /// <summary>Answers NaN, which is not JSON: the gateway must call it garbage.</summary>
    public const string AnswersGarbage = """
        class Model:
            def predict(self, frame):
                return [float("nan") for _ in frame["x"]]

        def _load_pyfunc(path):
            return Model()
        """;

    /// <summary>Answers slowly (sleep of x milliseconds).</summary>
    public const string SleepsX = """
        import time

        class Model:
            def predict(self, frame):
                time.sleep(max(float(v) for v in frame["x"]) / 1000)
                return [0.0 for _ in frame["x"]]

        def _load_pyfunc(path):
            return Model()
        """;

    /// <summary>Stores an MLflow python_function folder with <paramref name="loader"/> as its code, and an approved version of it.</summary>
    public static Task<ModelVersion> ApprovedPyFuncAsync(IServiceProvider services, string model, string loader, IReadOnlyList<ColumnSchema>? signature = null,
        string? trainingDataset = null)
    {
        var mlmodel = "flavors:\n  python_function:\n    loader_module: testmodel\n    code: code\n    python_version: 3.11.2\nmlflow_version: 2.12.2\n";
        return ApprovedFolderAsync(services, model, new Dictionary<string, byte[]>
        {
            ["MLmodel"] = Encoding.UTF8.GetBytes(mlmodel),
            ["code/testmodel.py"] = Encoding.UTF8.GetBytes(loader.Replace("\r\n", "\n", StringComparison.Ordinal)),
        }, signature ?? XSignature, trainingDataset);
    }

    /// <summary>
    /// A gradient-boosted classifier pickled as the samples do (<c>{"model", "columns"}</c>, one-hot categories),
    /// trained here on synthetic rows of income, age and employment; approved.
    /// </summary>
    public static async Task<ModelVersion> ApprovedSklearnAsync(IServiceProvider services, string model, string? trainingDataset = null, string? sourceRunId = null)
    {
        var file = Path.Combine(Path.GetTempPath(), $"model-{Guid.NewGuid():N}.pkl");
        const string train = """
            import pickle, sys
            import numpy as np, pandas as pd
            from sklearn.ensemble import GradientBoostingClassifier
            rng = np.random.default_rng(7)
            n = 400
            frame = pd.DataFrame({"annual_income": rng.normal(50000, 15000, n), "age": rng.integers(18, 80, n),
                                  "employment": rng.choice(["salaried", "self-employed", "unemployed"], n)})
            y = ((frame["annual_income"] < 45000) | (frame["employment"] == "unemployed")).astype(int)
            x = pd.get_dummies(frame, columns=["employment"], dtype=float)
            model = GradientBoostingClassifier(n_estimators=20, max_depth=2, random_state=7).fit(x, y)
            with open(sys.argv[1], "wb") as handle:
                pickle.dump({"model": model, "columns": list(x.columns)}, handle)
            """;
        using (var python = Process.Start(new ProcessStartInfo("/usr/bin/python3", ["-c", train, file]) { RedirectStandardError = true, UseShellExecute = false })!)
        {
            var error = await python.StandardError.ReadToEndAsync();
            await python.WaitForExitAsync();
            Assert.True(python.ExitCode == 0, error);
        }

        var bytes = await File.ReadAllBytesAsync(file);
        File.Delete(file);
        var hash = await StoreAsync(services, bytes);
        return await ApproveAsync(services, model, hash, "outputs/model.pkl",
            [new ColumnSchema("annual_income", ColumnType.Float, false), new ColumnSchema("age", ColumnType.Integer, false), new ColumnSchema("employment", ColumnType.Categorical, false)],
            trainingDataset, mlflow: null, sourceRunId);
    }

    public static async Task<ModelVersion> ApprovedFolderAsync(IServiceProvider services, string model, IReadOnlyDictionary<string, byte[]> files, IReadOnlyList<ColumnSchema> signature,
        string? trainingDataset)
    {
        var lines = new List<string>();
        foreach (var (path, bytes) in files)
        {
            lines.Add($"{await StoreAsync(services, bytes)} {bytes.Length} {path}");
        }

        var manifest = string.Concat(lines.Order(StringComparer.Ordinal).Select(l => l + "\n"));
        var digest = await StoreAsync(services, Encoding.UTF8.GetBytes(manifest));
        return await ApproveAsync(services, model, digest, "model", signature, trainingDataset, new MlflowModelFacts(["python_function"], null));
    }

    /// <summary>An approved version whose bytes are not in the artifact store (deleted, or never copied there).</summary>
    public static Task<ModelVersion> ApprovedWithoutBytesAsync(IServiceProvider services, string model) =>
        ApproveAsync(services, model, Convert.ToHexStringLower(SHA256.HashData(Guid.NewGuid().ToByteArray())), "outputs/model.pkl", XSignature, null, null);

    public static async Task<string> StoreAsync(IServiceProvider services, byte[] bytes)
    {
        var store = services.GetRequiredService<IArtifactStore>();
        await using var upload = await store.BeginUploadAsync(CancellationToken.None);
        await upload.WriteAsync(bytes, CancellationToken.None);
        var stored = await upload.CommitAsync(CancellationToken.None);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), stored.Hash);
        return stored.Hash;
    }

    private static async Task<ModelVersion> ApproveAsync(IServiceProvider services, string model, string hash, string path, IReadOnlyList<ColumnSchema> signature,
        string? trainingDataset, MlflowModelFacts? mlflow, string? sourceRunId = null)
    {
        var time = services.GetRequiredService<TimeProvider>();
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        if (!await db.RegisteredModels.AnyAsync(m => m.Name == model))
        {
            db.RegisteredModels.Add(RegisteredModel.Create(model, Some.Scientist, time));
        }

        var number = (await db.ModelVersions.Where(v => v.ModelName == model).MaxAsync(v => (int?)v.Version) ?? 0) + 1;
        var version = ModelVersion.Register(model, number, sourceRunId ?? "0123456789abcdef0123456789abcdef", path, hash, Some.Scientist, time,
            new ModelVersionFacts(new Dictionary<string, double>(), signature, trainingDataset is null ? [] : [trainingDataset], Mlflow: mlflow));
        version.PassValidation(time);
        version.RequestApproval(time);
        version.Approve(time);
        db.ModelVersions.Add(version);
        await db.SaveChangesAsync();
        return version;
    }
}
