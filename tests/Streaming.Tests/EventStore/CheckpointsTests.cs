using Streaming.EventStore;

namespace Streaming.Tests.EventStore;

public sealed class CheckpointsTests(MigratedDatabase database) : IClassFixture<MigratedDatabase>
{
    [Fact]
    public async Task A_saved_checkpoint_loads_back_and_moves_from_where_it_is()
    {
        var name = "reader-" + Guid.NewGuid().ToString("N");
        var first = new TailPosition(long.MaxValue - 5, 42);
        var second = new TailPosition(long.MaxValue - 1, 43);

        var before = await LoadAsync(name);
        await SaveAsync(name, null, first);
        await SaveAsync(name, first, second);

        Assert.Null(before);
        Assert.Equal(second, await LoadAsync(name));
    }

    [Fact]
    public async Task Saving_from_a_position_the_checkpoint_has_left_conflicts_and_changes_nothing()
    {
        var name = "reader-" + Guid.NewGuid().ToString("N");
        var a = new TailPosition(100, 1);
        var b = new TailPosition(101, 2);
        await SaveAsync(name, null, a);
        await SaveAsync(name, a, b);

        var conflict = await Assert.ThrowsAsync<CheckpointConflictException>(() => SaveAsync(name, a, new TailPosition(102, 3)));

        Assert.Equal((name, (TailPosition?)a, (TailPosition?)b), (conflict.Name, conflict.Expected, conflict.Actual));
        Assert.Equal(b, await LoadAsync(name));
    }

    [Fact]
    public async Task A_first_save_conflicts_when_another_instance_saved_first()
    {
        var name = "reader-" + Guid.NewGuid().ToString("N");
        await SaveAsync(name, null, new TailPosition(100, 1));

        var conflict = await Assert.ThrowsAsync<CheckpointConflictException>(() => SaveAsync(name, null, new TailPosition(100, 5)));

        Assert.Equal(new TailPosition(100, 1), conflict.Actual);
    }

    [Fact]
    public async Task Expecting_a_checkpoint_that_was_never_saved_conflicts()
    {
        var name = "reader-" + Guid.NewGuid().ToString("N");

        var conflict = await Assert.ThrowsAsync<CheckpointConflictException>(() => SaveAsync(name, new TailPosition(1, 1), new TailPosition(2, 2)));

        Assert.Null(conflict.Actual);
        Assert.Null(await LoadAsync(name));
    }

    Task<TailPosition?> LoadAsync(string name) => SettledTail.CheckpointAsync(database.DataSource, name);

    // The log's one partition, 0: a reader's one checkpoint row.
    async Task SaveAsync(string name, TailPosition? expected, TailPosition next)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var from = expected is { } at ? new Dictionary<int, TailPosition> { [0] = at } : [];
        await Checkpoints.SaveAsync(transaction, name, from, LogPositions.At(0, next), CancellationToken.None);
        await transaction.CommitAsync();
    }
}
