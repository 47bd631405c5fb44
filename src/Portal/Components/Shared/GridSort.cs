using System.Collections.Concurrent;
using System.Reflection;
using MudBlazor;

namespace Portal.Components.Shared;

/// <summary>
/// Names the sort keys of a <see cref="MudDataGrid{T}"/>'s template columns, so a server page can tell which
/// column was sorted (a template column's own name is a random id). The delegate also sorts in memory when
/// the key is one of <typeparamref name="T"/>'s properties, for grids that page in the browser.
/// </summary>
public static class GridSort<T>
{
    private static readonly ConcurrentDictionary<string, Func<T, object?>> Keys = new(StringComparer.Ordinal);

    // The grid may wrap the delegate, so it is asked with this stand-in item, which answers with the key itself.
    private static readonly T Probe = (T)System.Runtime.CompilerServices.RuntimeHelpers.GetUninitializedObject(typeof(T));

    public static Func<T, object?> By(string key) => Keys.GetOrAdd(key, static k =>
    {
        var property = typeof(T).GetProperty(k, BindingFlags.Public | BindingFlags.Instance);
        return item => ReferenceEquals(item, Probe) ? new SortKey(k) : item is null || property is null ? null : property.GetValue(item);
    });

    /// <summary>The sorted column's key (a property name or a key given to <see cref="By"/>) and direction; null when unsorted.</summary>
    public static (string? Key, bool Descending) Of(GridState<T> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (state.SortDefinitions.FirstOrDefault() is not { } sort)
        {
            return (null, false);
        }

        var named = sort.SortFunc?.Invoke(Probe) is SortKey key ? key.Name : null;
        return (named ?? sort.SortBy, sort.Descending);
    }

    private sealed record SortKey(string Name);

    /// <summary>Rows to skip for the state's page.</summary>
    public static int Skip(GridState<T> state) => state is null ? 0 : state.Page * state.PageSize;

    /// <summary>Rows held in memory, ordered by <paramref name="key"/>.</summary>
    public static IEnumerable<T> Order<TKey>(IEnumerable<T> rows, Func<T, TKey> key, bool descending) => descending ? rows.OrderByDescending(key) : rows.OrderBy(key);

    /// <summary>The page of <paramref name="sorted"/> the grid shows.</summary>
    public static GridData<T> Page(IEnumerable<T> sorted, GridState<T> state, int total)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new GridData<T> { Items = sorted.Skip(Skip(state)).Take(state.PageSize).ToList(), TotalItems = total };
    }
}

/// <summary>What server-paged grids share.</summary>
public static class GridExtensions
{
    /// <summary>After a filter changed: back to the first page and ask the server again.</summary>
    public static async Task FirstPageAsync<T>(this MudDataGrid<T>? grid)
    {
        if (grid is null)
        {
            return;
        }

        if (grid.CurrentPage != 0)
        {
            grid.NavigateTo(Page.First);
        }

        await grid.ReloadServerData();
    }
}
