using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using Npgsql;
using Spectre.Console;
using Streaming.Cli.Http;
using Streaming.Cli.Connection;
using Streaming.EventStore;

namespace Streaming.Cli;

/// <summary>What every command gets: the global options' values, the store (opened on first use) and how to print.</summary>
public sealed class CommandContext(ParseResult parse) : IAsyncDisposable
{
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    NpgsqlDataSource? _dataSource;
    StoreShards? _shards;
    ApiClient? _api;

    public bool JsonOutput => parse.GetValue(GlobalOptions.Json);

    /// <summary>The <c>--endpoints</c> file given, if any.</summary>
    public string? Endpoints => parse.GetValue(GlobalOptions.Endpoints);

    public string ConnectionString => StoreConnection.Resolve(parse.GetValue(GlobalOptions.Connection), parse.GetValue(GlobalOptions.Endpoints));

    /// <summary>Progress and messages for people go to standard error, so standard output stays the command's result.</summary>
    public IAnsiConsole Messages { get; } = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    public async Task<NpgsqlDataSource> StoreAsync(CancellationToken cancellationToken)
    {
        if (_dataSource is null)
        {
            _dataSource = NpgsqlDataSource.Create(ConnectionString);
            await StoreSchema.MigrateAsync(_dataSource, cancellationToken);
        }
        return _dataSource;
    }

    /// <summary>
    /// The store's shards: the store itself unless it is sharded (its other shards named as
    /// <see cref="StoreConnection.ResolveOtherShards"/> says), shard 0 first.
    /// </summary>
    public async Task<StoreShards> ShardsAsync(CancellationToken cancellationToken)
    {
        if (_shards is not null)
        {
            return _shards;
        }
        var home = await StoreAsync(cancellationToken);
        var others = StoreConnection.ResolveOtherShards(parse.GetValue(GlobalOptions.Endpoints));
        if (others.Count == 0)
        {
            return _shards = StoreShards.Single(home);
        }
        var partitioning = await EventStoreSchema.ReadPartitioningAsync(home, cancellationToken);
        if (partitioning.Partitions < others.Count + 1)
        {
            throw new CommandFailedException($"the store has {partitioning.Partitions} log partitions, too few for {others.Count + 1} shards");
        }
        return _shards = new StoreShards(new ShardMap(others.Count + 1, partitioning.Partitions), [home, .. others.Select(c => NpgsqlDataSource.Create(c))]);
    }

    /// <summary>The store of the shard holding <paramref name="jobId"/>'s stream.</summary>
    public async Task<NpgsqlDataSource> StoreOfJobAsync(string jobId, CancellationToken cancellationToken) =>
        (await ShardsAsync(cancellationToken)).DataSourceOfJob(jobId);

    /// <summary>The API, for writes: roles apply and the actor recorded is the holder of the token sent.</summary>
    public ApiClient Api => _api ??= new ApiClient(ApiEndpoint.Resolve(
        parse.GetValue(GlobalOptions.Api), parse.GetValue(GlobalOptions.TokenFile), parse.GetValue(GlobalOptions.Endpoints)));

    /// <summary>Prints <paramref name="value"/> as JSON with <c>--json</c>, else what <paramref name="text"/> writes.</summary>
    public void Print<T>(T value, Action text)
    {
        if (JsonOutput)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(value, Json));
        }
        else
        {
            text();
        }
    }

    public static string ToJson<T>(T value) => JsonSerializer.Serialize(value, Json);

    public async ValueTask DisposeAsync()
    {
        _api?.Dispose();
        if (_shards is not null)
        {
            await _shards.DisposeAsync();
        }
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }
}
