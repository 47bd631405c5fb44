using System.Numerics;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>Distinct-count estimate in 16 KB (2^14 registers, about 0.8% standard error).</summary>
internal sealed class HyperLogLog
{
    private const int Precision = 14;
    private const int Registers = 1 << Precision;
    private readonly byte[] _registers = new byte[Registers];

    public void Add(ulong hash)
    {
        var index = (int)(hash >> (64 - Precision));
        var rest = (hash << Precision) | (1UL << (Precision - 1));
        var rank = (byte)(BitOperations.LeadingZeroCount(rest) + 1);
        if (rank > _registers[index])
        {
            _registers[index] = rank;
        }
    }

    public long Estimate()
    {
        double sum = 0;
        var zeros = 0;
        foreach (var r in _registers)
        {
            sum += Math.ScaleB(1, -r);
            if (r == 0)
            {
                zeros++;
            }
        }

        const double alpha = 0.7213 / (1 + (1.079 / Registers));
        var estimate = alpha * Registers * Registers / sum;
        if (estimate <= 2.5 * Registers && zeros > 0)
        {
            estimate = Registers * Math.Log((double)Registers / zeros); // linear counting for small sets
        }

        return (long)Math.Round(estimate);
    }
}
