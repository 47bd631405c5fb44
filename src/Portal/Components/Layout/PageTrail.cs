namespace Portal.Components.Layout;

/// <summary>
/// Lets a page name the crumbs the address alone cannot: a run's and an experiment's names instead of
/// their ids. One per circuit; the breadcrumbs use a trail only while the address it was set for is shown.
/// </summary>
public sealed class PageTrail
{
    public event Action? Changed;

    /// <summary>The base-relative path (no query) the crumbs belong to.</summary>
    public string? Path { get; private set; }

    public IReadOnlyList<Breadcrumbs.Crumb> Crumbs { get; private set; } = [];

    /// <summary>Names the crumbs after Home for <paramref name="path"/>; the last crumb never links.</summary>
    public void Set(string path, params (string Text, string? Href)[] crumbs)
    {
        ArgumentNullException.ThrowIfNull(crumbs);
        Path = Normalise(path);
        Crumbs = [new("Home", "/"), .. crumbs.Select((c, i) => new Breadcrumbs.Crumb(c.Text, i == crumbs.Length - 1 ? null : c.Href))];
        Changed?.Invoke();
    }

    /// <summary>The crumbs named for <paramref name="path"/>, or null when that page named none.</summary>
    public IReadOnlyList<Breadcrumbs.Crumb>? For(string path) => Path is not null && Normalise(path) == Path ? Crumbs : null;

    internal static string Normalise(string path) => "/" + path.Split('?', '#')[0].Trim('/');
}
