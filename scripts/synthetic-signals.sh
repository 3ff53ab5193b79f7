# Sourced by scripts/backtest-bench.sh and scripts/export-bench.sh (after scripts/throwaway-postgres.sh has started a
# PostgreSQL): write_synthetic_signals JOBS MINUTES writes JOBS × MINUTES signals of the default policy's metrics
# straight into the event store (job-0 … job-N, one a minute from 2026-01-01, labelled team-0 … team-19; the even jobs
# report a 5% error rate, the odd ones pass), then settles the table (vacuum, checkpoint) and says how long it took.
write_synthetic_signals() {
  local jobs=$1 minutes=$2 start
  echo "writing $jobs jobs × $minutes minutes of signals …"
  start=$(date +%s)
  psql "host=127.0.0.1 port=$postgres_port user=postgres dbname=postgres" -v ON_ERROR_STOP=1 -q <<SQL
begin;
-- One transaction, one commit in the log's commit order, recorded as the append path does (README, Architecture).
select set_config('es.records_commit', 'on', true) as promised \gset
insert into es.events (stream_id, version, event_id, type, data, metadata, seq, event_time)
select 'job-' || j, m + 1, gen_random_uuid(), 'signal-recorded/v1',
  jsonb_build_object('seq', m + 1, 'jobId', 'job-' || j, 'phase', 'shadow', 'labels', jsonb_build_object('team', 'team-' || (j % 20)),
    'metrics', jsonb_build_object('error_rate', case when j % 2 = 0 then 0.05 else 0.001 end, 'checksum_mismatch_rate', 0.0001,
      'landing_latency_p95_ms', 800 + (j * 7 + m * 13) % 400),
    'emittedAt', to_char(timestamptz '2026-01-01 00:00:00+00' + make_interval(mins => m), 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"'),
    'correlationId', null),
  '{}'::json, m + 1, timestamptz '2026-01-01 00:00:00+00' + make_interval(mins => m)
from generate_series(0, $minutes - 1) m, generate_series(0, $jobs - 1) j
order by m, j;
select commit as recorded_commit from es.record_commit() \gset
commit;
vacuum analyze es.events;
checkpoint;
SQL
  echo "written in $(( $(date +%s) - start )) s"
}
