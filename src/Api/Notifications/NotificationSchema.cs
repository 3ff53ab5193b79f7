using Streaming.EventStore;

namespace Streaming.Api.Notifications;

/// <summary>
/// The notifications' tables (schema <c>notifications</c>): the outbox, one delivery row per notification and webhook,
/// what the rules that check periodically remember, and what fires
/// and is not resolved yet. Versions 64-65 of the store's one version space.
/// </summary>
public static class NotificationSchema
{
    public static readonly IReadOnlyList<SchemaMigration> Migrations =
    [
        new(64, "notifications", """
            create schema if not exists notifications;
            create table notifications.notifications (
                id          bigint generated always as identity primary key,
                key         text not null unique,
                rule        text not null,
                severity    text not null,
                title       text not null,
                text        text not null,
                subject     text,
                occurred_at timestamptz not null,
                details     jsonb not null,
                created_at  timestamptz not null default now()
            );
            create index notifications_rule_subject on notifications.notifications (rule, subject, occurred_at);
            create table notifications.deliveries (
                notification_id bigint not null references notifications.notifications (id) on delete cascade,
                webhook         text not null,
                state           text not null check (state in ('pending', 'delivered', 'failed')),
                attempts        int not null default 0,
                next_attempt_at timestamptz not null default now(),
                last_status     int,
                last_error      text,
                delivered_at    timestamptz,
                primary key (notification_id, webhook)
            );
            create index deliveries_due on notifications.deliveries (next_attempt_at) where state = 'pending';
            -- A periodic rule's last notification (its cool-down), one row per rule: also the lock instances take turns on.
            create table notifications.rule_state (
                rule     text primary key,
                fired_at timestamptz
            );
            -- The jobs a flag rule has told about while they stay flagged: a job is "newly" flagged when it is not here.
            create table notifications.told_jobs (
                rule   text not null,
                job_id text not null,
                primary key (rule, job_id)
            );
            """),
        // Recovery and retention: a notification is firing or resolved (then naming the key it resolves); what fires
        // and is not resolved yet, one row per rule and subject ('' for a periodic rule), with when a periodic
        // condition was first seen back under its threshold (held for ResolveAfter before it is told); and the index
        // the retention's deletes read.
        new(65, "notification_recovery", """
            alter table notifications.notifications
                add column status text not null default 'firing' check (status in ('firing', 'resolved')),
                add column resolves text;
            create index notifications_created on notifications.notifications (created_at);
            create table notifications.firing (
                rule        text not null,
                subject     text not null,
                key         text not null,
                clear_since timestamptz,
                primary key (rule, subject)
            );
            """),
    ];
}
