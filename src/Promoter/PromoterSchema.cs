using Streaming.EventStore;

namespace Streaming.Promoter;

/// <summary>The Promoter's tables (schema <c>promoter</c>), in the store's one version space (see <see cref="SchemaMigration"/>).</summary>
public static class PromoterSchema
{
    public static readonly IReadOnlyList<SchemaMigration> Migrations =
    [
        // The Promoter's state, saved with its folds' checkpoints. Earlier builds created these tables themselves; one
        // that kept each job's state as JSON (promoter.job_lifecycles) is dropped with its checkpoint, and the decisions
        // fold starts over from the log, re-making the same decisions (their ids derive from the deciding signal, so the
        // store refuses the copies).
        new(8, "promoter_schema", """
            create schema if not exists promoter;
            create table if not exists promoter.job_lifecycle_snapshots (
                job_id     text primary key,
                snapshot   bytea not null,
                updated_at timestamptz not null default now()
            );
            create table if not exists promoter.fleet_state (
                id         int primary key check (id = 1),
                snapshot   jsonb not null,
                updated_at timestamptz not null default now()
            );
            create table if not exists promoter.shadow_tracks (
                job_id     text primary key,
                tracks     bytea not null,
                updated_at timestamptz not null default now()
            );
            create table if not exists promoter.shadow_agreement (
                policy       text primary key,
                agreed       bigint not null,
                live_only    bigint not null,
                shadow_only  bigint not null,
                open         bigint not null,
                lead_seconds double precision not null,
                updated_at   timestamptz not null default now()
            );
            do $$
            begin
                if to_regclass('promoter.job_lifecycles') is not null then
                    drop table promoter.job_lifecycles;
                    delete from es.checkpoints where name = 'promoter:decisions';
                end if;
            end
            $$;
            """),
        // 60-61: the gates around the criteria (silent jobs, pauses, windows): their state, saved with the decisions' checkpoint.
        new(60, "promoter_gates", """
            create table if not exists promoter.gate_state (
                id         int primary key check (id = 1),
                snapshot   jsonb not null,
                updated_at timestamptz not null default now()
            );
            create table if not exists promoter.silence_entries (
                job_id text primary key,
                entry  jsonb not null
            );
            """),
        // 62-63: approval gates (src/Promoter/Approvals). The jobs waiting for approval, saved with the decisions' checkpoint.
        new(62, "promoter_approval_state", """
            create table if not exists promoter.approval_state (
                id         int primary key check (id = 1),
                snapshot   jsonb not null,
                updated_at timestamptz not null default now()
            );
            """),
        // 66: a job's snapshot passes PostgreSQL's 2 kB TOAST threshold once its window holds about 40 samples, and is
        // then compressed on every save of the decision states; lz4 does that about four times cheaper than pglz (see the
        // job-state rows, migration 55). A server built without lz4 keeps pglz.
        new(66, "job_lifecycle_snapshots_lz4", """
            do $$
            begin
                alter table promoter.job_lifecycle_snapshots alter column snapshot set compression lz4;
            exception when feature_not_supported then
                raise notice 'lz4 is not available on this server: lifecycle snapshots stay compressed with pglz';
            end
            $$;
            """),
        // 67: the waves' slots in Owner mode (several Promoters), saved with the checkpoint of the control partition by its owner.
        new(67, "promoter_admission_state", """
            create table if not exists promoter.admission_state (
                id         int primary key check (id = 1),
                snapshot   jsonb not null,
                updated_at timestamptz not null default now()
            );
            """),
        // 68: the fleet's breakers in Owner mode (several Promoters), saved with the checkpoint of the control partition by its owner.
        new(68, "promoter_breaker_state", """
            create table if not exists promoter.breaker_state (
                id         int primary key check (id = 1),
                snapshot   jsonb not null,
                updated_at timestamptz not null default now()
            );
            """),
    ];
}
