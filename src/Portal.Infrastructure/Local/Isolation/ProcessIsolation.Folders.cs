namespace Portal.Infrastructure.Local.Isolation;

/// <summary>A job's working folder: prepared by the portal, handed to the job's account, taken back before it is read.</summary>
public sealed partial class ProcessIsolation
{
    /// <summary>A new, empty working folder, the portal's until <see cref="HandOver"/>.</summary>
    public string PrepareWorkFolder(string name)
    {
        var folder = WorkFolderOf(name);
        DeleteWorkFolder(folder);
        Directory.CreateDirectory(folder);
        UnixFiles.SetMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        return folder;
    }

    /// <summary>Gives the working folder and everything in it to the job's account.</summary>
    public void HandOver(string workFolder)
    {
        if (_jobAccount is not { } account)
        {
            return;
        }

        foreach (var path in Walk(workFolder).Prepend(workFolder))
        {
            UnixFiles.ChangeOwner(path, account.UserId, account.GroupId);
        }
    }

    /// <summary>
    /// Takes a working folder back once its processes are gone, before the portal reads anything in it:
    /// every folder becomes the portal's (0700) from the top down, so nothing left running as the job's
    /// user can swap a file for a link while it is read. Returns the regular files the job itself wrote;
    /// links, FIFOs, devices and files of other owners (a hard link to someone else's file) are left out.
    /// </summary>
    public IReadOnlyList<string> Reclaim(string workFolder)
    {
        var files = new List<string>();
        if (!UnixFiles.Supported)
        {
            return [.. Directory.EnumerateFiles(workFolder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })];
        }

        var job = _jobAccount?.UserId ?? UnixFiles.EffectiveUserId;
        if (!TakeFolder(workFolder))
        {
            return files;
        }

        var pending = new Stack<string>([workFolder]);
        var visited = 0;
        while (pending.Count > 0 && visited < MaxEntries)
        {
            var folder = pending.Pop();
            foreach (var entry in Directory.EnumerateFileSystemEntries(folder))
            {
                if (++visited > MaxEntries)
                {
                    break;
                }

                var info = UnixFiles.Inspect(entry);
                if (info.Kind == UnixEntryKind.Directory && TakeFolder(entry))
                {
                    pending.Push(entry);
                }
                else if (info.Kind == UnixEntryKind.File && info.OwnerId == job)
                {
                    files.Add(entry);
                }
            }
        }

        return files;
    }

    /// <summary>Removes a working folder and all in it (links are removed, never followed).</summary>
    public static void DeleteWorkFolder(string folder)
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
            // A folder still in use goes with the next start of the same name, or with the work root.
        }
    }

    private const int MaxEntries = 200_000;

    /// <summary>Makes a folder the portal's (0700) and checks it still is a folder afterwards.</summary>
    private bool TakeFolder(string folder)
    {
        if (_jobAccount is not null)
        {
            UnixFiles.ChangeOwner(folder, UnixFiles.EffectiveUserId, UnixFiles.EffectiveGroupId);
        }

        var info = UnixFiles.Inspect(folder);
        if (info.Kind != UnixEntryKind.Directory || info.OwnerId != UnixFiles.EffectiveUserId)
        {
            return false;
        }

        UnixFiles.SetMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return true;
    }

    private static IEnumerable<string> Walk(string folder) =>
        Directory.EnumerateFileSystemEntries(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint });
}
