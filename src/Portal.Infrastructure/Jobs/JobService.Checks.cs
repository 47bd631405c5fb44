using Microsoft.EntityFrameworkCore;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Jobs;
using Portal.Domain.Lineage;

namespace Portal.Infrastructure.Jobs;

/// <summary>What a job request is checked for before anything is written: every field a person can get wrong.</summary>
public sealed partial class JobService
{
    /// <summary>Everything a person can get wrong in a request, checked before anything is written.</summary>
    /// <exception cref="InvalidInputException">What is wrong, per field.</exception>
    public async Task<(string Experiment, string? CodeFolder, Dictionary<string, string> Inputs, IReadOnlyDictionary<string, string> Params, TimeSpan Timeout)> CheckAsync(
        JobRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new FieldErrors();
        var experimentName = request.Experiment?.Trim(' ');
        if (string.IsNullOrEmpty(experimentName))
        {
            errors.Add("experiment", "experiment: name the experiment the run belongs to.");
        }
        else if (experimentName.Length > TrackingRules.MaxExperimentNameLength)
        {
            errors.Add("experiment", $"experiment: at most {TrackingRules.MaxExperimentNameLength} characters.");
        }
        else if (Names.FreeTextProblem(experimentName, "experiment", TrackingRules.MaxExperimentNameLength) is { } experimentProblem)
        {
            errors.Add("experiment", experimentProblem);
        }

        if (Run.NameProblem(request.RunName) is { } runNameProblem)
        {
            errors.Add("runName", runNameProblem);
        }

        var codeFolder = request.SystemCode ?? CheckCodePath(request.CodePath, errors);
        CheckCommand(request.Command, codeFolder, errors);
        if (request.Compute is { } compute && compute != "local")
        {
            errors.Add("compute", $"compute: '{compute}' is not available; this portal runs jobs on 'local'.");
        }

        var timeout = TimeSpan.FromMinutes(request.TimeoutMinutes ?? options.Value.Jobs.DefaultTimeoutMinutes);
        if (request.TimeoutMinutes is { } minutes && (double.IsNaN(minutes) || minutes <= 0 || minutes > 7 * 24 * 60))
        {
            errors.Add("timeoutMinutes", "timeoutMinutes: between 0 and 10080 (one week).");
        }

        var inputs = await CheckInputsAsync(request.Inputs, errors, cancellationToken);
        var parameters = request.Params ?? new Dictionary<string, string>();
        if (parameters.Count > MaxParams)
        {
            errors.Add("params", $"params: at most {MaxParams}.");
        }

        foreach (var (key, value) in parameters)
        {
            if (TrackingRules.KeyProblem(key, "key") is { } problem)
            {
                errors.Add("params", $"params.{key}: {problem}");
            }
            else if ((value ?? "").Length > TrackingRules.MaxParamValueLength)
            {
                errors.Add("params", $"params.{key}: at most {TrackingRules.MaxParamValueLength} characters.");
            }
            else if ((value ?? "").Contains('\0', StringComparison.Ordinal))
            {
                errors.Add("params", $"params.{key}: a value cannot hold a NUL character (it becomes an environment variable).");
            }
        }

        CheckEnvironment(request.Environment, errors);

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        return (experimentName!, codeFolder, inputs, parameters, timeout);

    }

    /// <summary>Variables a job may add to its environment: plain names, none of those the runner sets itself.</summary>
    private static void CheckEnvironment(IReadOnlyDictionary<string, string>? environment, FieldErrors errors)
    {
        if (environment is null)
        {
            return;
        }

        if (environment.Count > MaxEnvironment)
        {
            errors.Add("environment", $"environment: at most {MaxEnvironment} variables.");
            return;
        }

        foreach (var (name, value) in environment)
        {
            if (Names.IdentifierProblem(name, "environment", MaxEnvironmentNameLength, allowLower: true) is { } problem)
            {
                errors.Add("environment", problem);
            }
            else if (ReservedEnvironment.Contains(name) || ReservedEnvironmentPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            {
                errors.Add("environment", $"environment.{name}: the portal sets this variable itself (HOME, MLFLOW_*, PORTAL_*, INPUT_*, PARAM_*).");
            }
            else if (value is null || value.Length > TrackingRules.MaxParamValueLength || value.Contains('\0', StringComparison.Ordinal))
            {
                errors.Add("environment", $"environment.{name}: a value of at most {TrackingRules.MaxParamValueLength} characters without NUL.");
            }
        }
    }

    private string? CheckCodePath(string? codePath, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(codePath))
        {
            return null;
        }

        if (codePath.Any(Names.IsInvisible))
        {
            errors.Add("codePath", $"codePath: '{Names.Visible(codePath)}' holds a control or invisible character; name a folder inside the code root, such as 'sklearn-classifier'.");
            return null;
        }

        var relative = codePath.Trim().Trim('/');
        var root = CodeRoot;
        var full = Path.GetFullPath(Path.Combine(root, relative));
        if (relative.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) || relative.Contains('\\', StringComparison.Ordinal)
            || !full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            errors.Add("codePath", $"codePath: '{codePath}' must be a folder inside the code root, such as 'sklearn-classifier'.");
            return null;
        }

        if (!Directory.Exists(full))
        {
            errors.Add("codePath", $"codePath: there is no folder '{relative}' in the code root; samples are {string.Join(", ", Samples())}.");
            return null;
        }

        return full;
    }

    private void CheckCommand(string? command, string? codeFolder, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(command))
        {
            errors.Add("command", "command: enter the command to run, e.g. 'python3 train.py'.");
            return;
        }

        if (command.Length > Job.MaxCommandLength)
        {
            errors.Add("command", $"command: at most {Job.MaxCommandLength} characters.");
            return;
        }

        // Newlines and tabs make multi-line scripts; other control characters (NUL above all) cannot reach a process.
        if (command.Any(c => Names.IsInvisible(c) && c is not ('\n' or '\r' or '\t')))
        {
            errors.Add("command", $"command: '{Names.Visible(command)}' holds a control or invisible character other than a newline or tab.");
            return;
        }

        var program = JobCommand.ProgramOf(command);
        if (JobCommand.ResolveProgram(program, codeFolder, options.Value.Local.Python) is null)
        {
            errors.Add("command", $"command: '{program}' was not found on this machine (not on PATH{(codeFolder is null ? "" : " nor in the code folder")}).");
        }
    }

    private async Task<Dictionary<string, string>> CheckInputsAsync(IReadOnlyDictionary<string, string>? inputs, FieldErrors errors, CancellationToken cancellationToken)
    {
        var checkedInputs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (inputs is null)
        {
            return checkedInputs;
        }

        if (inputs.Count > MaxInputs)
        {
            errors.Add("inputs", $"inputs: at most {MaxInputs}.");
            return checkedInputs;
        }

        foreach (var (name, reference) in inputs)
        {
            if (Names.IdentifierProblem(name, "inputs", 64) is not null)
            {
                errors.Add("inputs", $"inputs: '{Names.Visible(name)}' is not an input name; use letters, digits and _ (it becomes INPUT_{{NAME}}).");
                continue;
            }

            if (!ArtifactRef.TryParse(reference, out var artifact, out var problem) || artifact.Kind is not (ArtifactKind.Dataset or ArtifactKind.Model))
            {
                errors.Add("inputs", $"inputs.{name}: {(artifact is null ? problem : "an input is a dataset version, dataset:<name>:<version>, or a model version, model:<name>:<version>")}");
                continue;
            }

            var parts = artifact.Value.Split(':');
            if (artifact.Kind == ArtifactKind.Model)
            {
                var number = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                if (!await db.ModelVersions.AnyAsync(v => v.ModelName == parts[0] && v.Version == number, cancellationToken))
                {
                    errors.Add("inputs", $"inputs.{name}: there is no model version {reference}.");
                    continue;
                }
            }
            else if (await datasets.FindVersionAsync(parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), cancellationToken) is null)
            {
                errors.Add("inputs", $"inputs.{name}: there is no dataset version {reference}.");
                continue;
            }

            checkedInputs[name!] = artifact.ToString();
        }

        return checkedInputs;
    }
}
