using Streaming.Cli.Commands;
using Streaming.Contracts.Signals;

namespace Streaming.Tests.Surface;

public sealed class CsvExportTests
{
    [Theory]
    [InlineData("=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"")]
    [InlineData("+1", "'+1")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcmd", "'\tcmd")]
    [InlineData("\rcmd", "\"'\rcmd\"")]
    [InlineData("plain-job", "plain-job")]
    [InlineData("a,b", "\"a,b\"")]
    public void A_cell_that_starts_like_a_formula_is_exported_as_text(string value, string cell) =>
        Assert.Equal(cell, ExportCommand.Csv(value));

    [Fact]
    public void Secret_looking_labels_are_masked_in_an_exported_body_and_other_bodies_are_kept_byte_for_byte()
    {
        const string withSecret = """{"jobId":"j","labels":{"team":"orders","db_password":"hunter2"},"metrics":{}}""";
        const string withoutSecret = """{"jobId":"j", "labels":{"team":"ö"}}""";

        var masked = ExportCommand.Masked(withSecret);

        Assert.DoesNotContain("hunter2", masked, StringComparison.Ordinal);
        Assert.Contains(SecretLabels.Mask, masked, StringComparison.Ordinal);
        Assert.Contains("\"team\":\"orders\"", masked, StringComparison.Ordinal);
        Assert.Same(withoutSecret, ExportCommand.Masked(withoutSecret));
    }
}
