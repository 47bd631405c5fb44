using Portal.Infrastructure.Datasets.Ingestion;

namespace Portal.Infrastructure.Datasets;

/// <summary>Input other than the file's content is wrong (the dataset name, the file name); names the field.</summary>
public sealed class DatasetInputException(string field, string message) : DatasetFileException(message)
{
    public string Field { get; } = field;
}
