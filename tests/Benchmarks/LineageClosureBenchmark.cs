namespace Portal.Benchmarks;

internal static class LineageClosureBenchmark
{
    public static Task RunAsync(string[] args)
    {
        Console.WriteLine("lineage-closure: not yet written");
        return Task.CompletedTask;
    }
}
