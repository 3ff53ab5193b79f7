using Streaming.Contracts.Json;
using Streaming.Contracts.Signals;
using Streaming.JobClient.Signals;

namespace Streaming.Tests.JobClient;

public sealed class SignalValidationTests
{
    static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_signal_within_the_contract_passes() =>
        Assert.Null(Problem(Signal()));

    [Theory]
    [InlineData(" job-1", "shadow", "jobId must not start or end with whitespace")]
    [InlineData("job\u0001", "shadow", "jobId must not contain NUL, control")]
    [InlineData("", "shadow", "jobId must not be empty")]
    [InlineData("job-1", "shadow\n", "phase must not contain NUL, control")]
    [InlineData("policy:evil", "shadow", "reserved")]
    public void Ids_breaking_the_contract_are_refused_with_ingest_s_own_reason(string jobId, string phase, string reason) =>
        Assert.Contains(reason, Problem(Signal() with { JobId = jobId, Phase = phase }), StringComparison.Ordinal);

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Metrics_that_are_not_finite_numbers_are_refused(double value) =>
        Assert.Contains("finite number", Problem(Signal() with { Metrics = new Dictionary<string, double> { ["error_rate"] = value } }), StringComparison.Ordinal);

    [Fact]
    public void Metric_names_with_control_characters_are_refused() =>
        Assert.Contains("metric name 'error\\trate' must not contain NUL, control", Problem(Signal() with { Metrics = new Dictionary<string, double> { ["error\trate"] = 0 } }), StringComparison.Ordinal);

    [Theory]
    [InlineData("1999-12-31T23:59:59Z")]
    [InlineData("2026-11-28T12:00:01Z")]
    public void Times_before_2000_or_more_than_a_day_ahead_are_refused(string emittedAt) =>
        Assert.Contains("emittedAt", Problem(Signal() with { EmittedAt = DateTimeOffset.Parse(emittedAt, System.Globalization.CultureInfo.InvariantCulture) }), StringComparison.Ordinal);

    [Fact]
    public void The_time_is_written_as_rfc_3339_with_its_offset()
    {
        var json = System.Text.Encoding.UTF8.GetString(ContractsJson.SerializeToUtf8(Signal()));
        Assert.Contains("\"emittedAt\":\"2026-11-27T11:00:00+00:00\"", json, StringComparison.Ordinal);
    }

    static JobSignal Signal() => new(
        JobSignal.SchemaV1, "job-1", Now.AddHours(-1), 7, "shadow", new Dictionary<string, double> { ["error_rate"] = 0.001 },
        new Dictionary<string, string> { ["team"] = "orders" }, null);

    static string? Problem(JobSignal signal) => SignalValidation.Problem(signal, Now, out _);
}
