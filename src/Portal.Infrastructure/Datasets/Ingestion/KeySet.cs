using System.Runtime.Intrinsics.X86;
using System.Text;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// The set of 64-bit value hashes seen in a key column, to find duplicates in one pass: 8 bytes per
/// distinct value (open addressing, linear probing), far less than a HashSet. A false duplicate needs a
/// 64-bit collision, about one in 10^5 for 10 million keys.
/// </summary>
/// <remarks>
/// With millions of keys every insert misses the CPU cache. Inserts therefore wait in a short queue: a
/// hash's slot is prefetched when it is queued and inserted 16 adds later, so the misses overlap.
/// </remarks>
internal sealed class KeySet(Action<long, string> onDuplicate)
{
    private const int Delay = 16;
    private const int KeptBytes = 64;

    private readonly ulong[] _pendingHashes = new ulong[Delay];
    private readonly long[] _pendingLines = new long[Delay];
    private readonly byte[] _pendingValues = new byte[Delay * KeptBytes];
    private readonly int[] _pendingLengths = new int[Delay];
    private ulong[] _slots = new ulong[1 << 16];
    private int _count;
    private int _pending;
    private int _next;

    public int Count => _count;

    /// <summary>Adds a key; a duplicate is reported (with its line and value) when the add completes.</summary>
    public void Add(ulong hash, long line, ReadOnlySpan<byte> value)
    {
        if (hash == 0)
        {
            hash = 1; // 0 marks an empty slot
        }

        if (_pending == Delay)
        {
            Complete(_next);
            _pending--;
        }

        _pendingHashes[_next] = hash;
        _pendingLines[_next] = line;
        var kept = value[..Math.Min(value.Length, KeptBytes)];
        kept.CopyTo(_pendingValues.AsSpan(_next * KeptBytes));
        _pendingLengths[_next] = kept.Length;
        Prefetch(hash);
        _next = (_next + 1) % Delay;
        _pending++;
    }

    /// <summary>Completes the queued adds (call before reading the result).</summary>
    public void Flush()
    {
        var start = (_next - _pending + Delay) % Delay;
        for (var i = 0; i < _pending; i++)
        {
            Complete((start + i) % Delay);
        }

        _pending = 0;
    }

    private void Complete(int at)
    {
        if (_count >= _slots.Length * 3 / 4)
        {
            Resize();
        }

        if (Insert(_slots, _pendingHashes[at]))
        {
            _count++;
        }
        else
        {
            onDuplicate(_pendingLines[at], Encoding.UTF8.GetString(_pendingValues, at * KeptBytes, _pendingLengths[at]));
        }
    }

    private unsafe void Prefetch(ulong hash)
    {
        if (Sse.IsSupported)
        {
            fixed (ulong* slot = &_slots[(int)(hash & (ulong)(_slots.Length - 1))])
            {
                Sse.Prefetch0(slot);
            }
        }
    }

    private static bool Insert(ulong[] slots, ulong hash)
    {
        var mask = slots.Length - 1;
        var i = (int)(hash & (ulong)mask);
        while (true)
        {
            var current = slots[i];
            if (current == 0)
            {
                slots[i] = hash;
                return true;
            }

            if (current == hash)
            {
                return false;
            }

            i = (i + 1) & mask;
        }
    }

    private void Resize()
    {
        var bigger = new ulong[_slots.Length * 2];
        foreach (var hash in _slots)
        {
            if (hash != 0)
            {
                Insert(bigger, hash);
            }
        }

        _slots = bigger;
    }
}
