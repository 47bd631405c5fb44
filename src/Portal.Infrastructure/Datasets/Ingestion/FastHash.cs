using System.Buffers.Binary;
using System.Numerics;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// A fast 64-bit hash of a cell's bytes, for distinct counts and key sets within one pass (not stored,
/// not for security). Eight bytes at a time, then the MurmurHash3 finaliser for a good avalanche.
/// </summary>
internal static class FastHash
{
    private const ulong Prime1 = 0x9E3779B97F4A7C15;
    private const ulong Prime2 = 0xC2B2AE3D27D4EB4F;

    public static ulong Of(ReadOnlySpan<byte> data)
    {
        var h = Prime1 ^ ((ulong)data.Length * Prime2);
        while (data.Length >= 8)
        {
            h = BitOperations.RotateLeft(h ^ (BinaryPrimitives.ReadUInt64LittleEndian(data) * Prime2), 31) * Prime1;
            data = data[8..];
        }

        if (!data.IsEmpty)
        {
            ulong tail = 0;
            for (var i = 0; i < data.Length; i++)
            {
                tail |= (ulong)data[i] << (8 * i);
            }

            h = BitOperations.RotateLeft(h ^ (tail * Prime2), 31) * Prime1;
        }

        h ^= h >> 33;
        h *= 0xFF51AFD7ED558CCD;
        h ^= h >> 33;
        h *= 0xC4CEB9FE1A85EC53;
        h ^= h >> 33;
        return h;
    }
}
