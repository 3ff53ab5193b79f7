using Npgsql;

namespace Streaming.EventStore;

/// <summary>
/// The home of the control streams (policies, known issues, breakers, pauses): shard 0's store. Every process writes them
/// there, whichever shard it serves, and they are relayed from there to the other shards' control partitions. For a
/// process of shard 0 (or of an unsharded store) it is the process's own data source.
/// </summary>
public sealed class ControlStore
{
    readonly string? _connectionString;

    ControlStore(NpgsqlDataSource dataSource, string? connectionString)
    {
        DataSource = dataSource;
        _connectionString = connectionString;
        Streams = new EventStreams(dataSource);
    }

    /// <summary>The process's own store is the home (it serves shard 0).</summary>
    public static ControlStore Local(NpgsqlDataSource own) => new(own, null);

    /// <summary>
    /// The home is another PostgreSQL cluster's store (shard 0's), reached through <paramref name="home"/>, the process's
    /// data source for that shard (<see cref="StoreShards"/>, which disposes it), whose connection string is <paramref name="connectionString"/>.
    /// </summary>
    public static ControlStore Remote(NpgsqlDataSource home, string connectionString) => new(home, connectionString);

    public NpgsqlDataSource DataSource { get; }

    /// <summary>Appends to the control streams, in the home.</summary>
    public EventStreams Streams { get; }

    /// <summary>Whether the home is the process's own store.</summary>
    public bool IsLocal => _connectionString is null;

    /// <summary>
    /// A data source of the caller's own to a remote home in which every transaction is read-only: for a reader of the
    /// home, so that nothing it does can write there. The caller disposes it.
    /// </summary>
    public NpgsqlDataSource OpenReadOnly()
    {
        var connectionString = _connectionString ?? throw new InvalidOperationException("The control streams' home is this process's own store");
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        builder.Options = $"{builder.Options} -c default_transaction_read_only=on".Trim();
        return new NpgsqlDataSourceBuilder(builder.ConnectionString) { Name = "event-store-control-read" }.Build();
    }

    /// <summary>
    /// Whether <paramref name="exception"/> says the home has no schema yet: shard 0's processes make it, and a process of
    /// another shard may start before them. Waited out like an outage.
    /// </summary>
    public static bool NotMigratedYet(Exception exception) =>
        exception is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable or PostgresErrorCodes.InvalidSchemaName };
}
