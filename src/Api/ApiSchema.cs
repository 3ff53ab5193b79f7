using Streaming.EventStore;

namespace Streaming.Api;

/// <summary>The operator surface's tables (schemas <c>api</c> and <c>fleet</c>), in the store's one version space (see <see cref="SchemaMigration"/>).</summary>
public static class ApiSchema
{
    public static readonly IReadOnlyList<SchemaMigration> Migrations =
    [
        // Bearer tokens, stored as their SHA-256 only (a token is 32 random bytes,
        // so no salt or slow hash is needed to make its digest useless to a reader of this table).
        new(20, "api_tokens", """
            create schema if not exists api;
            create table api.tokens (
                token_sha256 bytea primary key,
                name         text not null,
                role         text not null check (role in ('viewer', 'operator', 'admin')),
                created_at   timestamptz not null default now(),
                revoked_at   timestamptz
            );
            """),
        // The fleet's history, folded from the log by FleetHistoryFold: every decision (the feed), moves per hour of
        // event time, each job's phase and the jobs per phase at the end of each hour of event time.
        new(21, "fleet_history", """
            create schema if not exists fleet;
            create table fleet.decisions (
                global_position bigint primary key,
                event_id        uuid not null unique,
                job_id          text not null,
                from_phase      text not null,
                to_phase        text not null,
                direction       text not null,
                policy          text not null,
                policy_name     text not null,
                decided_at      timestamptz not null,
                recorded_at     timestamptz not null,
                reason          text not null
            );
            create index decisions_decided_at on fleet.decisions (decided_at);
            create index decisions_job on fleet.decisions (job_id, global_position);
            create table fleet.moves_per_hour (
                hour      timestamptz not null,
                direction text not null,
                policy    text not null,
                moves     int not null,
                primary key (hour, direction, policy)
            );
            create table fleet.job_phases (
                job_id text primary key,
                phase  text not null
            );
            create table fleet.phase_history (
                hour  timestamptz not null,
                phase text not null,
                jobs  int not null,
                primary key (hour, phase)
            );
            """),
        // Who created and who revoked each token (the audit trail of token administration, shown by `streaming token
        // list --all`); tokens created before this say null.
        new(24, "api_token_audit", """
            alter table api.tokens add column created_by text, add column revoked_by text;
            """),
    ];
}
