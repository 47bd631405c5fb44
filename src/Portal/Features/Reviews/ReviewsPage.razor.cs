using Microsoft.AspNetCore.Components;
using Portal.Domain.Common;
using Portal.Domain.Models;
using Portal.Domain.Ports;
using Portal.Infrastructure.Models;
using Radzen;
using Radzen.Blazor;

namespace Portal.Features.Reviews;

/// <summary>The reviewer inbox: paged, sorted and filtered on the server; new requests and decisions refresh it live.</summary>
public sealed partial class ReviewsPage : IDisposable
{
    private static readonly IReadOnlyList<(string Text, ApprovalState? Value)> StateChoices =
        [("Open", ApprovalState.Open), ("Approved", ApprovalState.Approved), ("Rejected", ApprovalState.Rejected), ("Expired", ApprovalState.Expired), ("Void", ApprovalState.Void), ("All", null)];

    private RadzenDataGrid<InboxRow>? _grid;
    // Null until the first load: the grid loads its first page itself only while Data is null.
    private IReadOnlyList<InboxRow>? _rows;
    private int _total;
    private bool _loading;
    private ApprovalState? _state = ApprovalState.Open;
    private string? _model;
    private IDisposable? _events;

    private static IEnumerable<object> States => StateChoices.Select(c => new { c.Text, c.Value });

    [Inject]
    private EvidencePacks Packs { get; set; } = default!;

    [Inject]
    private IEventBus Bus { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    protected override void OnInitialized() =>
        _events = Bus.Subscribe<IDomainEvent>(_ => InvokeAsync(async () =>
        {
            if (_grid is not null)
            {
                await _grid.Reload();
            }
        }), e => e is ApprovalRequested or ApprovalDecided, TimeSpan.FromMilliseconds(500));

    private async Task LoadAsync(LoadDataArgs args)
    {
        _loading = true;
        var sort = args.Sorts?.FirstOrDefault();
        var (rows, total) = await Packs.InboxAsync(
            new ApprovalQuery(_state, _model, ModelContains: true, sort?.Property, sort?.SortOrder == SortOrder.Descending, args.Skip ?? 0, args.Top ?? 20), CancellationToken.None);
        (_rows, _total, _loading) = (rows, total, false);
    }

    public void Dispose() => _events?.Dispose();
}
