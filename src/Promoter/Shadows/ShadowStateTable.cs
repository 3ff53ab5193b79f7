using System.Collections.Immutable;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Streaming.Lifecycle;

namespace Streaming.Promoter.Shadows;

/// <summary>
/// The shadow fold's state: each job's tracks (<c>promoter.shadow_tracks</c>, binary: per policy the lifecycle snapshot
/// and the pending wish) and each shadow policy's agreement counts (<c>promoter.shadow_agreement</c>); schema migration 8.
/// </summary>
public static class ShadowStateTable
{
    public static async Task<IReadOnlyDictionary<string, ShadowJob>> LoadAsync(
        NpgsqlConnection connection, IReadOnlyList<string> jobIds, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("select job_id, tracks from promoter.shadow_tracks where job_id = any(@ids)", connection);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. jobIds]));
        var jobs = new Dictionary<string, ShadowJob>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var jobId = reader.GetString(0);
            jobs[jobId] = Read(jobId, reader.GetFieldValue<byte[]>(1));
        }
        return jobs;
    }

    public static async Task SaveAsync(NpgsqlTransaction transaction, IReadOnlyList<KeyValuePair<string, ShadowJob>> changed, CancellationToken cancellationToken)
    {
        if (changed.Count == 0)
        {
            return;
        }
        await using var command = new NpgsqlCommand(
            """
            insert into promoter.shadow_tracks (job_id, tracks, updated_at)
            select job_id, tracks, now() from unnest(@ids, @tracks) as r(job_id, tracks)
            on conflict (job_id) do update set tracks = excluded.tracks, updated_at = now()
            """, transaction.Connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. changed.Select(c => c.Key)]));
        command.Parameters.Add(new NpgsqlParameter<byte[][]>
        {
            ParameterName = "tracks",
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bytea,
            TypedValue = [.. changed.Select(c => Write(c.Value))],
        });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<Dictionary<string, ShadowAgreement>> LoadAgreementAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("select policy, agreed, live_only, shadow_only, open, lead_seconds from promoter.shadow_agreement");
        var agreement = new Dictionary<string, ShadowAgreement>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            agreement[reader.GetString(0)] = new ShadowAgreement(reader.GetString(0))
            {
                Agreed = reader.GetInt64(1),
                LiveOnly = reader.GetInt64(2),
                ShadowOnly = reader.GetInt64(3),
                Open = reader.GetInt64(4),
                LeadSeconds = reader.GetDouble(5),
            };
        }
        return agreement;
    }

    public static async Task SaveAgreementAsync(NpgsqlTransaction transaction, IEnumerable<ShadowAgreement> agreement, CancellationToken cancellationToken)
    {
        foreach (var counts in agreement)
        {
            await using var command = new NpgsqlCommand(
                """
                insert into promoter.shadow_agreement (policy, agreed, live_only, shadow_only, open, lead_seconds, updated_at)
                values (@policy, @agreed, @live_only, @shadow_only, @open, @lead, now())
                on conflict (policy) do update set agreed = excluded.agreed, live_only = excluded.live_only, shadow_only = excluded.shadow_only,
                    open = excluded.open, lead_seconds = excluded.lead_seconds, updated_at = now()
                """, transaction.Connection, transaction);
            command.Parameters.AddWithValue("policy", counts.Policy);
            command.Parameters.AddWithValue("agreed", counts.Agreed);
            command.Parameters.AddWithValue("live_only", counts.LiveOnly);
            command.Parameters.AddWithValue("shadow_only", counts.ShadowOnly);
            command.Parameters.AddWithValue("open", counts.Open);
            command.Parameters.AddWithValue("lead", counts.LeadSeconds);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    static byte[] Write(ShadowJob job)
    {
        using var buffer = new MemoryStream();
        using var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true);
        writer.Write7BitEncodedInt(job.Tracks.Count);
        foreach (var (policy, track) in job.Tracks)
        {
            writer.Write(policy);
            var lifecycle = JobLifecycleSnapshot.Write(track.Lifecycle);
            writer.Write7BitEncodedInt(lifecycle.Length);
            writer.Write(lifecycle);
            writer.Write(track.Would is not null);
            if (track.Would is { } would)
            {
                writer.Write(would.From);
                writer.Write(would.To);
                writer.Write(would.Direction);
                writer.Write(would.DecidedAt.UtcTicks);
                writer.Write(would.DecidingVersion);
                writer.Write(would.Policy);
            }
        }
        writer.Flush();
        return buffer.ToArray();
    }

    static ShadowJob Read(string jobId, byte[] bytes)
    {
        using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
        var tracks = ImmutableSortedDictionary.CreateBuilder<string, ShadowTrack>(StringComparer.Ordinal);
        for (var count = reader.Read7BitEncodedInt(); count > 0; count--)
        {
            var policy = reader.ReadString();
            var lifecycle = JobLifecycleSnapshot.Read(reader.ReadBytes(reader.Read7BitEncodedInt()));
            PhaseDecision? would = null;
            if (reader.ReadBoolean())
            {
                // Only what judging the wish needs is kept: its explanation is in its shadow-decision event.
                var (from, to, direction) = (reader.ReadString(), reader.ReadString(), reader.ReadString());
                var decidedAt = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero);
                would = new PhaseDecision(jobId, from, to, direction, decidedAt, reader.ReadInt64(), reader.ReadString(), "", [], 0, 0, false);
            }
            tracks[policy] = new ShadowTrack(lifecycle, would);
        }
        return new ShadowJob(jobId, tracks.ToImmutable());
    }
}
