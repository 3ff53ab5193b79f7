#!/bin/bash
# Beside a run of ./bench.sh: polls the newest bench_*jobs* database of the bench's PostgreSQL every 0.5 s and appends
# a line per poll to the file given (default /tmp/fold-lag.log): the database, the time, the signals stored (the sum of
# the stored Kafka offsets) and, per fold, how many commits its checkpoint is behind the log's head. Stop it with kill.
#   scripts/fold-lag.sh /tmp/fold-lag.log & ./bench.sh --no-marten; kill %1
out=${1:-/tmp/fold-lag.log}; : > "$out"
while true; do
  port=$(pgrep -af "bin/postgres -D" | grep -o -- "-p [0-9]*" | head -1 | cut -d' ' -f2)
  [ -n "$port" ] || { sleep 0.5; continue; }
  db=$(psql -h 127.0.0.1 -p $port -U postgres -Atc "select datname from pg_database where datname like 'bench_%jobs%' order by oid desc limit 1" 2>/dev/null)
  if [ -n "$db" ]; then
    psql -h 127.0.0.1 -p $port -U postgres -d $db -Atc "select '$db ' || to_char(clock_timestamp(),'HH24:MI:SS.MS') || ' ' || coalesce((select sum(next_offset) from es.kafka_offsets),0) || ' ' || string_agg(name || '=' || behind, ' ' order by name) from (select c.name, sum(greatest(0, (select max(commit) from es.commits ec where ec.partition = c.partition) - c.commit)) behind from es.checkpoints c group by c.name) f" >> "$out" 2>/dev/null
  fi
  sleep 0.5
done
