using System.Diagnostics;
using System.Net;
using Portal.Infrastructure.Configuration;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Deployments;

/// <summary>A serving portal whose jobs and model servers import MLflow from the peer folder (Portal:Local:PythonPath).</summary>
public sealed class MlflowServingPortal : ServingPortal
{
    public MlflowServingPortal() => With("Portal:Local:PythonPath:0", MlflowPyFuncTests.PeerFolder);
}

/// <summary>
/// Models saved with <c>mlflow.pyfunc.save_model(python_model=…)</c> (loader <c>mlflow.pyfunc.model</c>) load through
/// MLflow itself: served where Portal:Local:PythonPath names a folder holding it, refused with that advice where not.
/// </summary>
public class MlflowPyFuncTests(MlflowServingPortal portal) : IClassFixture<MlflowServingPortal>
{
    public static string PeerFolder =>
        Path.GetFullPath(Path.Combine(DataDirectory.FindRepositoryRoot(AppContext.BaseDirectory)!, "..", "shared", "peers", "mlflow-2.12.2"));

    [Fact]
    public async Task APythonModelSavedByMlflow_IsServedThroughTheConfiguredMlflow()
    {
        var version = await ApprovedPythonModelAsync(portal);
        var name = $"pyf-{Guid.NewGuid():N}"[..10];
        await portal.PutAsync(name, ServingPortal.Deployment("blue", version, 100));

        await portal.WaitForStateAsync(name, "blue", "Healthy", seconds: 90);
        var response = await portal.ScoreAsync(name, new { inputs = new[] { new { x = 2.0 }, new { x = 21.0 } } });

        var predictions = (await response.JsonAsync(HttpStatusCode.OK)).GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble()).ToList();
        Assert.Equal([4.0, 42.0], predictions);
    }

    /// <summary>Saves a python_model with the peer MLflow, as a data scientist's script does, and approves the folder.</summary>
    internal static async Task<(string Model, int Version)> ApprovedPythonModelAsync(ServingPortal portal)
    {
        Assert.True(Directory.Exists(Path.Combine(PeerFolder, "mlflow")), $"The MLflow peer is missing at {PeerFolder} (see ../shared/peers/README.md).");
        using var folder = new TempFolder();
        var saved = Path.Combine(folder.Path, "model");
        const string save = """
            import sys, mlflow.pyfunc
            class Doubler(mlflow.pyfunc.PythonModel):
                def predict(self, context, model_input, params=None):
                    return [2.0 * float(x) for x in model_input["x"]]
            mlflow.pyfunc.save_model(sys.argv[1], python_model=Doubler())
            """;
        var start = new ProcessStartInfo("/usr/bin/python3", ["-c", save, saved]) { RedirectStandardError = true, UseShellExecute = false };
        start.Environment["PYTHONPATH"] = PeerFolder;
        using (var python = Process.Start(start)!)
        {
            var error = await python.StandardError.ReadToEndAsync();
            await python.WaitForExitAsync();
            Assert.True(python.ExitCode == 0, error);
        }

        var files = Directory.EnumerateFiles(saved, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(saved, f).Replace('\\', '/'), File.ReadAllBytes);
        var model = $"m-{Guid.NewGuid():N}"[..14];
        var version = await ServedModels.ApprovedFolderAsync(portal.Services, model, files, ServedModels.XSignature, trainingDataset: null);
        return (model, version.Version);
    }
}
