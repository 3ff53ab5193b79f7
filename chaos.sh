#!/usr/bin/env bash
# The fault suite, long form (README, "Reliability"): an uninterrupted reference run of 200,000 signals from 10,000
# jobs, the same signals under 20 kill -9 of the services, under a 10 s PostgreSQL stop and under broker faults, each
# compared with the reference; and every kind of bad input. Real processes, its own PostgreSQL, the embedded broker.
# Prints the figures, writes artifacts/chaos/chaos.json, and exits non-zero when any guarantee failed. With
# --instances N the runs with faults run N copies of each service (ownership on, a store with a log partition per topic
# partition; the kills hit random copies) and must still decide as the single-instance reference run. With --shards S
# they store over S PostgreSQL clusters (a Projector and Promoter set per shard), every check reads every shard, and the
# PostgreSQL run stops shard 1's cluster alone while shard 0 must go on storing and deciding.
# With --instances N > 1 the takeover run keeps one Promoter's host down (--host-down SECONDS): the others of its shard must
# follow its partitions within 15 s.
#   ./chaos.sh [--seed N] [--jobs N] [--signals-per-job N] [--kills N] [--outage SECONDS] [--instances N] [--ingest-instances N]
#              [--host-down SECONDS] [--session-timeout SECONDS] [--shards S] [--only kills,postgres,broker,takeover,bad-input]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$repo"
scripts/setup.sh || { echo "chaos.sh: set-up failed (see above)" >&2; exit 1; }
exec dotnet src/Chaos/bin/Release/net10.0/linux-x64/Streaming.Chaos.dll --json artifacts/chaos/chaos.json "$@"
