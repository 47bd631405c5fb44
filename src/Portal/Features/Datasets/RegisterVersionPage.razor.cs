using System.Globalization;
using System.Text.Json;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.JSInterop;
using Portal.Domain.Datasets;
using Portal.Infrastructure.Datasets;

namespace Portal.Features.Datasets;

/// <summary>
/// Uploads a file from the browser straight to the datasets API (with the session cookie), so large files
/// never pass through the circuit; shows progress, then the problems per field or the new version.
/// </summary>
public sealed partial class RegisterVersionPage : IDisposable
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.OrdinalIgnoreCase);
    private DotNetObjectReference<RegisterVersionPage>? _self;
    private InputFile _input = default!;
    private IBrowserFile? _file;
    private IReadOnlyList<string> _known = [];
    private string? _name;
    private string? _description;
    private string? _problem;
    private double? _progress;

    [Inject]
    private IJSRuntime JS { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private DatasetCatalog Catalog { get; set; } = default!;

    /// <summary>Pre-fills the name, e.g. from a dataset's page.</summary>
    [SupplyParameterFromQuery(Name = "name")]
    private string? NameFromQuery { get; set; }

    protected override async Task OnInitializedAsync()
    {
        _name = NameFromQuery;
        _known = (await Catalog.ListAsync(new DatasetQuery(Take: DatasetCatalog.MaxPageSize))).Datasets.Select(d => d.Name).ToList();
    }

    [JSInvokable]
    public Task OnUploadProgress(double loaded, double total) => InvokeAsync(() =>
    {
        _progress = total > 0 ? Math.Round(100 * loaded / total) : 0;
        StateHasChanged();
    });

    private void OnFileChosen(InputFileChangeEventArgs e)
    {
        _file = e.File;
        _errors.Remove("file");
        _problem = null;
    }

    private async Task RegisterAsync()
    {
        _errors.Clear();
        _problem = null;
        var name = _name?.Trim() ?? "";
        if (DatasetNames.Problem(name) is { } problem)
        {
            _errors["name"] = [problem];
            return;
        }

        _progress = 0;
        _self ??= DotNetObjectReference.Create(this);
        try
        {
            var result = await JS.InvokeAsync<UploadResult>("portal.uploadFile", TimeSpan.FromHours(2), _input.Element,
                $"api/v1/datasets/{Uri.EscapeDataString(name)}/versions", new Dictionary<string, string?> { ["description"] = _description }, _self);
            if (result.Status is 200 or 201)
            {
                var version = JsonDocument.Parse(result.Body).RootElement.GetProperty("version").GetInt32();
                Navigation.NavigateTo($"/datasets/{name}/versions/{version.ToString(CultureInfo.InvariantCulture)}");
                return;
            }

            ShowProblem(result);
        }
        finally
        {
            _progress = null;
        }
    }

    /// <summary>Problem answers name their fields (<c>errors</c>) and say what went wrong (<c>detail</c>).</summary>
    private void ShowProblem(UploadResult result)
    {
        if (result.Status == 0)
        {
            _problem = "The upload did not reach the portal (connection lost?). Nothing was registered.";
            return;
        }

        try
        {
            var problem = JsonDocument.Parse(result.Body).RootElement;
            if (problem.TryGetProperty("errors", out var errors))
            {
                foreach (var field in errors.EnumerateObject())
                {
                    _errors[field.Name] = field.Value.EnumerateArray().Select(m => m.GetString() ?? "").ToList();
                }
            }

            if (_errors.Count == 0)
            {
                _problem = problem.TryGetProperty("detail", out var detail) ? detail.GetString() : $"The portal answered {result.Status}.";
            }
        }
        catch (JsonException)
        {
            _problem = $"The portal answered {result.Status}. Nothing was registered.";
        }
    }

    private IReadOnlyList<string> Errors(string field) => _errors.TryGetValue(field, out var messages) ? messages : [];

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} bytes",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KB",
        < 1024 * 1024 * 1024 => $"{bytes / 1048576.0:0.#} MB",
        _ => $"{bytes / 1073741824.0:0.##} GB",
    };

    public void Dispose() => _self?.Dispose();

    private sealed record UploadResult(int Status, string Body);
}
