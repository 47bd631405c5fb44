namespace Portal.Infrastructure.Configuration;

/// <summary>The resolved, absolute data folder and the well-known places inside it.</summary>
public sealed class DataDirectory
{
    public DataDirectory(string root)
    {
        Root = Path.GetFullPath(root);
    }

    public string Root { get; }

    public string DatabaseFile => Path.Combine(Root, "portal.db");

    public string KeysFolder => Path.Combine(Root, "keys");

    public string RunsFolder => Path.Combine(Root, "runs");

    public string ArtifactsFolder => Path.Combine(Root, "artifacts");

    public string DemoCredentialsFile => Path.Combine(Root, "demo-credentials.txt");

    /// <summary>
    /// Resolves <paramref name="configured"/>: absolute paths as given; relative ones against the repository
    /// root when <paramref name="startFolder"/> lies inside a clone (so <c>./data</c> means the clone's data
    /// folder whichever project runs), otherwise against <paramref name="startFolder"/>.
    /// </summary>
    public static DataDirectory Resolve(string configured, string startFolder)
    {
        if (Path.IsPathRooted(configured))
        {
            return new DataDirectory(configured);
        }

        return new DataDirectory(ResolveFolder(configured, startFolder));
    }

    /// <summary>Resolves any configured folder the same way as the data folder.</summary>
    public static string ResolveFolder(string configured, string startFolder) =>
        Path.GetFullPath(Path.IsPathRooted(configured) ? configured : Path.Combine(FindRepositoryRoot(startFolder) ?? startFolder, configured));

    /// <summary>The clone <paramref name="folder"/> lies in (the folder holding MlopsPortal.sln), or null outside one.</summary>
    public static string? FindRepositoryRoot(string folder)
    {
        for (var dir = new DirectoryInfo(folder); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MlopsPortal.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }
}
