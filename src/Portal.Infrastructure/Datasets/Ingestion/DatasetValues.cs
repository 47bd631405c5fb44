namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>How stored numbers read back for people: dates are kept as Unix seconds.</summary>
public static class DatasetValues
{
    public static string Date(double unixSeconds) => CellParser.FromUnixSeconds(unixSeconds);
}
