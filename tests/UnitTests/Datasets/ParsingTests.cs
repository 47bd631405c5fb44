using System.Text;
using Portal.Domain.Datasets;
using Portal.Infrastructure.Datasets.Ingestion;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Datasets;

public class ParsingTests : IDisposable
{
    private readonly Ingest _ingest = new();

    [Fact]
    public async Task Csv_InfersEachType_AndNullability()
    {
        var csv = new StringBuilder("id,amount,flag,when,colour,note\n");
        for (var i = 1; i <= 200; i++)
        {
            csv.Append($"{i},{i * 1.5},{(i % 2 == 0 ? "true" : "false")},2024-01-{(i % 28) + 1:00},{(i % 3 == 0 ? "red" : "blue")},{(i == 7 ? "" : $"note {i}")}\n");
        }

        var file = await _ingest.TextAsync(csv.ToString());

        Assert.Equal(DatasetFormat.Csv, file.Format);
        Assert.Equal(200, file.Rows);
        Assert.Equal(
            [("id", ColumnType.Integer, false), ("amount", ColumnType.Float, false), ("flag", ColumnType.Boolean, false),
             ("when", ColumnType.Datetime, false), ("colour", ColumnType.Categorical, false), ("note", ColumnType.String, true)],
            file.Schema.Select(c => (c.Name, c.Type, c.Nullable)));
    }

    [Fact]
    public async Task Csv_QuotedFields_KeepCommasQuotesAndLineBreaks()
    {
        var file = await _ingest.TextAsync("name,comment\n\"Smith, Ann\",\"She said \"\"hi\"\"\nthen left\"\nBob,plain\n");

        Assert.Equal(2, file.Rows);
        Assert.Equal(["Smith, Ann", "She said \"hi\"\nthen left"], file.Preview[0]);
        Assert.Equal(["Bob", "plain"], file.Preview[1]);
    }

    [Theory]
    [InlineData("a;b;c\n1;2;3\n", "data.csv")]
    [InlineData("a\tb\tc\n1\t2\t3\n", "data.tsv")]
    [InlineData("a|b|c\n1|2|3\n", "data.csv")]
    public async Task Csv_DelimiterIsTakenFromTheHeader(string content, string fileName)
    {
        var file = await _ingest.TextAsync(content, fileName);

        Assert.Equal(["a", "b", "c"], file.Schema.Select(c => c.Name));
        Assert.Equal(["1", "2", "3"], file.Preview[0]);
    }

    [Fact]
    public async Task Csv_WithByteOrderMarkAndCrLf_ReadsCleanly()
    {
        var bytes = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("x,y\r\n1,2\r\n3,4")).ToArray();

        var file = await _ingest.BytesAsync(bytes);

        Assert.Equal(["x", "y"], file.Schema.Select(c => c.Name));
        Assert.Equal(2, file.Rows);
        Assert.Equal(["3", "4"], file.Preview[1]);
    }

    [Fact]
    public async Task Csv_SpanningManyReads_WithMultiLineQuotes_CountsEveryRow()
    {
        var csv = new StringBuilder("id,text\n");
        for (var i = 0; i < 60_000; i++)
        {
            csv.Append(i % 1000 == 0 ? $"{i},\"line one\nline two, with comma\"\n" : $"{i},row {i}\n");
        }

        var file = await _ingest.TextAsync(csv.ToString());

        Assert.Equal(60_000, file.Rows);
        var id = file.Profile.Column("id")!;
        Assert.Equal(0, id.Min);
        Assert.Equal(59_999, id.Max);
        Assert.Equal(29_999.5, id.Mean!.Value, 6);
    }

    [Theory]
    [InlineData("", "The file is empty.")]
    [InlineData("a,b,c\n", "header but no rows")]
    [InlineData("a,b,c\n1,2,3\n4,5\n", "Line 3 has 2 fields; the header has 3.")]
    [InlineData("a,b,c\n1,2,3,4\n", "Line 2 has 4 fields; the header has 3.")]
    [InlineData("a,,c\n1,2,3\n", "Column 2 has no name")]
    [InlineData("a,b,a\n1,2,3\n", "Column 3 is named 'a' like an earlier column")]
    [InlineData("a,b\n1,\"open\n", "never closed")]
    [InlineData("a,b\n\"x\"y,2\n", "closing quote must be followed by a delimiter")]
    public async Task UnreadableCsv_IsRefusedWithTheProblemAndLine(string content, string expected)
    {
        var ex = await Assert.ThrowsAsync<DatasetFileException>(() => _ingest.TextAsync(content));

        Assert.Contains(expected, ex.Message);
        Assert.Equal(0, _ingest.IncomingFiles());
    }

    [Fact]
    public async Task ColumnNameOfTenThousandCharacters_IsRefused()
    {
        var ex = await Assert.ThrowsAsync<DatasetFileException>(() => _ingest.TextAsync($"ok,{new string('x', 10_000)}\n1,2\n"));

        Assert.Contains("column 2 is 10000 characters long", ex.Message);
    }

    [Fact]
    public async Task Latin1Bytes_AreRefusedNamingTheLine()
    {
        var bytes = Encoding.UTF8.GetBytes("city,n\nBerlin,1\n").Concat(new byte[] { (byte)'M', 0xFC, (byte)'n', (byte)'c', (byte)'h', (byte)'e', (byte)'n', (byte)',', (byte)'2', (byte)'\n' }).ToArray();

        var ex = await Assert.ThrowsAsync<DatasetFileException>(() => _ingest.BytesAsync(bytes));

        Assert.Contains("Line 3, byte 2 is not UTF-8 (0xFC)", ex.Message);
    }

    [Fact]
    public async Task Utf16_IsRefusedAsSuch()
    {
        var bytes = Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes("a,b\n1,2\n")).ToArray();

        var ex = await Assert.ThrowsAsync<DatasetFileException>(() => _ingest.BytesAsync(bytes));

        Assert.Contains("UTF-16", ex.Message);
    }

    [Fact]
    public async Task OverTheSizeLimit_IsRefused_AndNothingIsLeftBehind()
    {
        var ex = await Assert.ThrowsAsync<DatasetTooLargeException>(() => _ingest.TextAsync("a,b\n" + string.Concat(Enumerable.Repeat("1,2\n", 10_000)), maxBytes: 1000));

        Assert.Contains("limit", ex.Message);
        Assert.Equal(0, _ingest.IncomingFiles());
    }

    [Fact]
    public async Task JsonLines_KeysBecomeColumns_NestedValuesStayJson_NullsAreMissing()
    {
        var file = await _ingest.TextAsync(
            "{\"id\": 1, \"name\": \"a\", \"tags\": [1,2]}\n\n{\"id\": 2, \"name\": null, \"extra\": {\"k\": \"v\"}}\n{\"id\": 3, \"name\": \"c\\\"q\"}\n",
            "events.jsonl");

        Assert.Equal(DatasetFormat.JsonLines, file.Format);
        Assert.Equal(3, file.Rows);
        Assert.Equal(["id", "name", "tags", "extra"], file.Schema.Select(c => c.Name));
        Assert.Equal(ColumnType.Integer, file.Schema[0].Type);
        Assert.True(file.Schema[1].Nullable);
        Assert.Equal("[1,2]", file.Preview[0][2]);
        Assert.Equal("{\"k\": \"v\"}", file.Preview[1][3]);
        Assert.Equal("c\"q", file.Preview[2][1]);
    }

    [Theory]
    [InlineData("{\"id\": 1}\n{\"id\": 2,}\n", "Line 2 is not valid JSON")]
    [InlineData("{\"id\": 1}\n[1,2]\n", "Line 2 is not a JSON object")]
    [InlineData("{\"id\": 1} {\"id\": 2}\n", "Line 1 is not valid JSON (at character 11): '{' is invalid after a single JSON value")]
    public async Task BrokenJsonLines_AreRefusedNamingTheLine(string content, string expected)
    {
        var ex = await Assert.ThrowsAsync<DatasetFileException>(() => _ingest.TextAsync(content, "events.jsonl"));

        Assert.Contains(expected, ex.Message);
    }

    public void Dispose()
    {
        _ingest.Dispose();
        GC.SuppressFinalize(this);
    }
}
