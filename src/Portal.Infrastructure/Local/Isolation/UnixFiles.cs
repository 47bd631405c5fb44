using System.Runtime.InteropServices;

namespace Portal.Infrastructure.Local.Isolation;

/// <summary>What <c>lstat</c> says of a path (never following a final symbolic link).</summary>
internal readonly record struct UnixEntry(UnixEntryKind Kind, uint OwnerId, uint GroupId, uint Links, long Size);

internal enum UnixEntryKind
{
    Missing,
    File,
    Directory,
    SymbolicLink,

    /// <summary>A FIFO, socket or device: never opened by the portal (a FIFO would block the reader).</summary>
    Other,
}

/// <summary>
/// The few POSIX calls .NET does not expose: who we are, who owns a path (without following links) and
/// handing a path to another owner. <c>statx</c> is used because its layout is the same on every
/// architecture, unlike <c>struct stat</c>.
/// </summary>
internal static partial class UnixFiles
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStats = 0x7ff;
    private const int StatxSize = 256;
    private const int ErrorNoEntry = 2;
    private const int ErrorNotDirectory = 20;

    [System.Runtime.Versioning.SupportedOSPlatformGuard("linux")]
    public static bool Supported => OperatingSystem.IsLinux();

    /// <summary>Sets a path's permission bits; nothing on a system without them.</summary>
    public static void SetMode(string path, UnixFileMode mode)
    {
        if (Supported)
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    public static uint EffectiveUserId => Supported ? geteuid() : uint.MaxValue;

    public static uint EffectiveGroupId => Supported ? getegid() : uint.MaxValue;

    public static bool IsRoot => Supported && geteuid() == 0;

    /// <summary>The uid and gid of a local account, or null when there is none.</summary>
    public static (uint UserId, uint GroupId)? Account(string name)
    {
        var entry = getpwnam(name);
        if (entry == IntPtr.Zero)
        {
            return null;
        }

        // struct passwd { char *pw_name; char *pw_passwd; uid_t pw_uid; gid_t pw_gid; ... }
        var offset = 2 * IntPtr.Size;
        return ((uint)Marshal.ReadInt32(entry, offset), (uint)Marshal.ReadInt32(entry, offset + 4));
    }

    public static unsafe UnixEntry Inspect(string path)
    {
        var buffer = stackalloc byte[StatxSize];
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            var error = Marshal.GetLastPInvokeError();
            return error is ErrorNoEntry or ErrorNotDirectory
                ? new UnixEntry(UnixEntryKind.Missing, 0, 0, 0, 0)
                : throw new IOException($"Cannot inspect {path} (errno {error}).");
        }

        // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid, u32 gid, u16 mode, …, u64 ino, u64 size
        var links = *(uint*)(buffer + 16);
        var owner = *(uint*)(buffer + 20);
        var group = *(uint*)(buffer + 24);
        var mode = *(ushort*)(buffer + 28);
        var size = *(long*)(buffer + 40);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => UnixEntryKind.File,
            0x4000 => UnixEntryKind.Directory,
            0xA000 => UnixEntryKind.SymbolicLink,
            _ => UnixEntryKind.Other,
        };
        return new UnixEntry(kind, owner, group, links, size);
    }

    /// <summary>Gives a path (the link itself, for a symbolic link) to another owner.</summary>
    public static void ChangeOwner(string path, uint userId, uint groupId)
    {
        if (lchown(path, userId, groupId) != 0)
        {
            throw new IOException($"Cannot change the owner of {path} (errno {Marshal.GetLastPInvokeError()}).");
        }
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial uint geteuid();

    [LibraryImport("libc", SetLastError = true)]
    private static partial uint getegid();

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getpwnam(string name);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int lchown(string path, uint owner, uint group);

    [LibraryImport("libc", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int statx(int dirFd, string path, int flags, uint mask, byte* buffer);
}
