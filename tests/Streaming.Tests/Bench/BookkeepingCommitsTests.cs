using Streaming.Bench.Delivery;

namespace Streaming.Tests.Bench;

/// <summary><c>./bench.sh latency</c> reads the folds' and Ingest's commit counters from the process's Prometheus text.</summary>
public sealed class BookkeepingCommitsTests
{
    const string Before = """
        # TYPE streaming_fold_commits_total counter
        streaming_fold_commits_total{fold="history-archive",otel_scope_name="Streaming"} 10 1733540000000
        streaming_fold_commits_total{fold="promoter:decisions",otel_scope_name="Streaming"} 2
        # TYPE streaming_ingest_batches_total counter
        streaming_ingest_batches_total{otel_scope_name="Streaming"} 100
        streaming_signals_ingested_total{otel_scope_name="Streaming"} 4000
        """;

    const string After = """
        streaming_fold_commits_total{fold="history-archive",otel_scope_name="Streaming"} 25 1733540010000
        streaming_fold_commits_total{fold="promoter:decisions",otel_scope_name="Streaming"} 3
        streaming_fold_commits_total{fold="notifications",otel_scope_name="Streaming"} 4
        streaming_ingest_batches_total 300
        """;

    [Fact]
    public void Counts_each_folds_commits_and_Ingests_between_two_scrapes()
    {
        var during = BookkeepingCommits.Parse(After).Since(BookkeepingCommits.Parse(Before));

        Assert.Equal(15, during.ByFold["history-archive"]);
        Assert.Equal(1, during.ByFold["promoter:decisions"]);
        Assert.Equal(4, during.ByFold["notifications"]);
        Assert.Equal(20, during.Total);
        Assert.Equal(200, during.IngestCommits);
    }

    [Fact]
    public void Reads_nothing_from_a_text_without_the_counters()
    {
        var none = BookkeepingCommits.Parse("# nothing here\nsome_other_total 5\n");

        Assert.Empty(none.ByFold);
        Assert.Equal(0, none.IngestCommits);
    }
}
