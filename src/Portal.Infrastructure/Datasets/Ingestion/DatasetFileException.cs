namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>The file cannot become a dataset version; the message names the problem and, where it applies, the line.</summary>
public class DatasetFileException(string message, long? line = null) : Exception(message)
{
    public long? Line { get; } = line;
}

/// <summary>The upload is larger than <c>Portal:Datasets:MaxUploadMegabytes</c> allows.</summary>
public sealed class DatasetTooLargeException(long limitBytes)
    : DatasetFileException($"The file is larger than the {limitBytes / (1024 * 1024)} MB limit (Portal:Datasets:MaxUploadMegabytes).")
{
    public long LimitBytes { get; } = limitBytes;
}
