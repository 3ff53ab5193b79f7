using Npgsql;
using Streaming.Api.Jobs;
using Streaming.Cli;
using Streaming.Projector.JobStates;
using Streaming.Tests.Infrastructure;

namespace Streaming.Tests.Surface;

/// <summary>The jobs list's id-prefix filter reads its matches through an index, not every id after the prefix.</summary>
public sealed class JobListPrefixPlanTests
{
    [Fact]
    public async Task An_id_prefix_is_a_bounded_range_of_an_index_of_the_active_generation()
    {
        await TestDatabase.UseFreshAsync(async dataSource =>
        {
            // Given the migrated schema and an active generation of job states
            await StoreSchema.MigrateAsync(dataSource, CancellationToken.None);
            await new JobStateGenerations(dataSource).EnsureActiveAsync(CancellationToken.None);

            // When the list's prefix filter is planned with sequential scans ruled out
            await using var connection = await dataSource.OpenConnectionAsync();
            await using (var off = new NpgsqlCommand("set enable_seqscan = off", connection))
            {
                await off.ExecuteNonQueryAsync();
            }
            await using var explain = new NpgsqlCommand(
                $"explain select job_id from projections.job_states where {JobQueries.PrefixFilter("$1")} limit 1001", connection);
            explain.Parameters.Add(new NpgsqlParameter<string> { TypedValue = "cdc-orders-" });
            var plan = new List<string>();
            await using (var reader = await explain.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    plan.Add(reader.GetString(0));
                }
            }

            // Then the generation's rows are read by an index condition bounded on both sides of the prefix
            var text = string.Join('\n', plan);
            Assert.Contains("Index Cond:", text);
            Assert.Contains(">= 'cdc-orders-'", text);
            Assert.Contains("< 'cdc-orders.'", text);
        });
    }
}
