using System.Globalization;

namespace Streaming.Chaos.Scenarios;

/// <summary>PostgreSQL stopped (<c>pg_ctl stop -m fast</c>) at 40% of the stream and started again after <c>outage</c>; no service may exit meanwhile.</summary>
public sealed class PostgresOutagePlan(TimeSpan outage) : IFaultPlan
{
    readonly List<string> _injected = [];
    Task? _restart;

    public string Name => "PostgreSQL restart";

    public IReadOnlyList<string> Injected => _injected;

    public int ExpectedExits => 0;

    public async Task AtAsync(long sent, FaultContext context, CancellationToken cancellationToken)
    {
        if (_restart is not null || sent < context.TotalMessages * 4 / 10)
        {
            return;
        }
        await context.Postgres.StopAsync();
        _injected.Add(string.Create(CultureInfo.InvariantCulture, $"PostgreSQL stopped for {outage.TotalSeconds:0} s after {sent:N0} messages"));
        // The stream goes on meanwhile (the producer waits for Ingest, which waits for PostgreSQL).
        _restart = Task.Run(async () =>
        {
            await Task.Delay(outage, cancellationToken);
            await context.Postgres.RestartAsync();
        }, cancellationToken);
    }

    public Task FinishAsync(FaultContext context, CancellationToken cancellationToken) => _restart ?? Task.CompletedTask;
}
