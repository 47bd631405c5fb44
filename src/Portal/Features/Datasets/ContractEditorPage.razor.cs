using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.Infrastructure.Datasets;
using Portal.Security;
using MudBlazor;

namespace Portal.Features.Datasets;

/// <summary>
/// Edits a dataset's contract. The domain checks the columns (the same checks as the API) and works out
/// which changes would break producers or consumers; those are confirmed before a new version is saved.
/// </summary>
public sealed partial class ContractEditorPage
{
    private List<ColumnEdit> _rows = [];
    private FieldErrors _errors = new();
    private DataContract? _current;
    private bool _saving;

    /// <summary>The dataset's name, from the address.</summary>
    [Parameter]
    public string Name { get; set; } = "";

    [Inject]
    private DatasetCatalog Catalog { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private ISnackbar Toasts { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override Task OnParametersSetAsync() => LoadAsync(async cancel =>
    {
        var dataset = await Catalog.FindAsync(Name, cancel);
        _current = dataset?.Contract;
        _rows = _current is not null
            ? _current.Columns.Select(ColumnEdit.From).ToList()
            // No contract yet: start from the latest version's columns.
            : dataset?.Latest?.Schema.Select(c => new ColumnEdit { Name = c.Name, Type = c.Type.Name(), Nullable = c.Nullable }).ToList() ?? [new ColumnEdit()];
    });

    private async Task SaveAsync()
    {
        var columns = _rows.Select(r => r.ToColumn()).ToList();
        _errors = DataContract.Check(columns);
        if (!_errors.IsEmpty)
        {
            return;
        }

        var breaking = _current is null ? [] : DataContract.BreakingChangesFrom(_current, columns);
        if (breaking.Count > 0 && await Dialogs.ConfirmAsync("These changes can break whoever produces or reads this data:\n• " + string.Join("\n• ", breaking), "Save a breaking contract change?", "Save anyway", "Keep editing") != true)
        {
            return;
        }

        _saving = true;
        try
        {
            var contract = await Catalog.ReviseContractAsync(Name, columns, (await AuthenticationState).User.ToActor());
            Toasts.Notify(MudBlazor.Severity.Success, "Contract saved", $"Version {contract.Version} applies to every new version of '{Name}'.");
            Navigation.NavigateTo($"/datasets/{Name}");
        }
        catch (DomainException ex)
        {
            _errors = new FieldErrors().Add("columns", ex.Message);
        }
        finally
        {
            _saving = false;
        }
    }

    /// <summary>Messages for row <paramref name="index"/> (keys <c>columns[i].field</c>), or for the whole contract when -1.</summary>
    private List<string> RowErrors(int index) => _errors.ToDictionary()
        .Where(e => index < 0 ? e.Key == "columns" : e.Key.StartsWith($"columns[{index}]", StringComparison.Ordinal))
        .SelectMany(e => e.Value).ToList();

    /// <summary>One row of the editor, as typed.</summary>
    private sealed class ColumnEdit
    {
        public string Name { get; set; } = "";

        public string Type { get; set; } = "string";

        public bool Nullable { get; set; } = true;

        public double? Min { get; set; }

        public double? Max { get; set; }

        public string? Allowed { get; set; }

        public bool Unique { get; set; }

        public bool Sensitive { get; set; }

        public static ColumnEdit From(ContractColumn c) => new()
        {
            Name = c.Name,
            Type = c.Type.Name(),
            Nullable = c.Nullable,
            Min = c.Min,
            Max = c.Max,
            Allowed = c.Allowed is null ? null : string.Join(", ", c.Allowed),
            Unique = c.Unique,
            Sensitive = c.Sensitive,
        };

        public ContractColumn ToColumn() => new(
            Name.Trim(), ColumnTypes.Parse(Type), Nullable, Min, Max,
            string.IsNullOrWhiteSpace(Allowed) ? null : Allowed.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
            Unique, Sensitive);
    }
}
