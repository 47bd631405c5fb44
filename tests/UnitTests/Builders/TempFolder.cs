namespace Portal.UnitTests.Builders;

/// <summary>
/// A fresh folder under the system temp directory, removed on dispose with its <see cref="WorkRoot"/>
/// sibling (where a portal on this folder keeps its jobs' working folders).
/// </summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "portal-test")
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    /// <summary>The work root test portals use for a data folder: beside it, never inside it.</summary>
    public static string WorkRootOf(string dataDirectory) => dataDirectory.TrimEnd('/') + "-work";

    public void Dispose()
    {
        foreach (var folder in new[] { Path, WorkRootOf(Path) })
        {
            try
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // A process we started may still hold a file for a moment; the OS cleans temp eventually.
            }
        }
    }
}
