using Streaming.Contracts.Text;

namespace Streaming.Tests.Contracts;

public sealed class UntrustedTextTests
{
    [Theory]
    [InlineData("job-1", "job-1")]
    [InlineData("a\nb\r\tc", @"a\nb\r\tc")]
    [InlineData("back\\slash", @"back\\slash")]
    [InlineData("\u001B[31mred\u0007", @"\u001B[31mred\u0007")]
    [InlineData("c1\u0085 del\u007F", @"c1\u0085 del\u007F")]
    [InlineData("\u202Eevil\u2066\u200B\uFEFF\u2028", @"\u202Eevil\u2066\u200B\uFEFF\u2028")]
    [InlineData("tag\U000E0001 emoji\U0001F600 日本", @"tag\u{E0001} emoji" + "\U0001F600 日本")]
    public void Escapes_what_could_end_fake_or_hide_a_line_and_keeps_the_rest(string text, string expected)
    {
        Assert.Equal(expected, UntrustedText.Escape(text));
    }

    [Fact]
    public void Escapes_bytes_that_are_not_UTF8_and_cuts_long_text_saying_how_much_is_left()
    {
        Assert.Equal(@"ok\xFF\xFE\xC3(", UntrustedText.Escape([(byte)'o', (byte)'k', 0xFF, 0xFE, 0xC3, 0x28]));
        Assert.Equal("kkkk…(+6 characters)", UntrustedText.Escape(new string('k', 10), 4));
        Assert.Equal("kkkk…(+9996 bytes)", UntrustedText.Escape(System.Text.Encoding.UTF8.GetBytes(new string('k', 10_000)), 4));
        Assert.Equal("(null)", UntrustedText.Escape((string?)null));
        Assert.Equal(@"lone\uD800 low\uDC00", UntrustedText.Escape("lone" + (char)0xD800 + " low" + (char)0xDC00));
    }
}
