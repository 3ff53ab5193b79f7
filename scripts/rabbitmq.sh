#!/usr/bin/env bash
# Starts or stops a private RabbitMQ node (Debian's rabbitmq-server) that shares nothing with any other node on this
# machine: its own node name, AMQP port, distribution port, Erlang port mapper (epmd) port, cookie, data and logs, all
# under DIR. Several of them run side by side (test runs, ./run.sh, benchmarks), never on the default node or port 5672.
#   scripts/rabbitmq.sh start DIR [PORT]   -> waits until the node has booted; prints the AMQP URI
#   scripts/rabbitmq.sh stop DIR           -> stops the node and its epmd
#   scripts/rabbitmq.sh run DIR [PORT]     -> the node in the foreground for a supervisor: once booted it announces its
#                                             URL (as Bus__RabbitMqUrl) in the file named by $STREAMING_ANNOUNCE, and
#                                             stops the node when it is told to stop (TERM, INT)
#   scripts/rabbitmq.sh ctl DIR ARGS...    -> rabbitmqctl against the node
set -euo pipefail

fail() { printf '[rabbitmq] error: %s\n' "$*" >&2; exit 1; }

free_port() { "$(dirname "${BASH_SOURCE[0]}")/free-port.sh"; }

bin=/usr/lib/rabbitmq/bin
[ -x "$bin/rabbitmq-server" ] || fail "rabbitmq-server is not installed (scripts/setup.sh installs it)"

action=${1:?start|stop|ctl}
dir=${2:?data directory}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The node's settings live in DIR/node.env: its name (kept, its data is filed under it) and its ports (chosen afresh,
# free, whenever it starts), read by every later command.
if [ ! -f "$dir/node.env" ]; then
  [ "$action" = start ] || [ "$action" = run ] || fail "no node in $dir"
  id=$(basename "$dir" | tr -c 'A-Za-z0-9\n' '-' | cut -c1-40)
  echo "RABBITMQ_NODENAME=streaming-$id-$$@localhost" > "$dir/node.env"
fi
set -a
# shellcheck source=/dev/null
. "$dir/node.env"
set +a
set -a
HOME=$dir
RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
RABBITMQ_MNESIA_BASE=$dir/mnesia
RABBITMQ_LOG_BASE=$dir/log
RABBITMQ_PID_FILE=$dir/node.pid
RABBITMQ_CONFIG_FILE=$dir/rabbitmq.conf
RABBITMQ_ADVANCED_CONFIG_FILE=$dir/advanced.config
RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
RABBITMQ_CONF_ENV_FILE=$dir/rabbitmq-env.conf
RABBITMQ_PLUGINS_EXPAND_DIR=$dir/plugins-expand
ERL_EPMD_ADDRESS=127.0.0.1
RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
set +a
ctl() { "$bin/rabbitmqctl" -n "$RABBITMQ_NODENAME" "$@"; }
# rabbitmqctl starts an epmd daemon on ERL_EPMD_PORT when none answers there, one that outlives it and nobody stops: so
# the node is asked only once its epmd lists it (epmd -names is a plain client).
registered() { [ -n "${ERL_EPMD_PORT:-}" ] && epmd -port "$ERL_EPMD_PORT" -names 2>/dev/null | grep -qF "name ${RABBITMQ_NODENAME%@*} at port"; }
running() { registered && ctl status >/dev/null 2>&1; }
# Stops the node and its epmd: through rabbitmqctl once epmd lists the node; otherwise (still booting, or rabbitmqctl
# failed) with a TERM to the server's session, which it leads (setsid below), so the Erlang VM gets it even when the
# server script has not installed its own trap yet; SIGKILL after 10 s.
stop_node() {
  if ! { registered && ctl shutdown >/dev/null 2>&1; } && [ -f "$dir/server.pid" ]; then
    local pid
    pid=$(cat "$dir/server.pid")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while kill -0 -- "-$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
  # epmd refuses -kill while it still lists a node, which a VM killed a moment ago may be for a while.
  local until=$((SECONDS + 10))
  while epmd -port "$ERL_EPMD_PORT" -names >/dev/null 2>&1; do
    epmd -port "$ERL_EPMD_PORT" -kill >/dev/null 2>&1 || true
    [ $SECONDS -lt $until ] || break
    sleep 0.1
  done
}
if { [ "$action" = start ] || [ "$action" = run ]; } && ! running; then
  cat > "$dir/node.env" <<ENV
RABBITMQ_NODENAME=$RABBITMQ_NODENAME
RABBITMQ_NODE_PORT=${3:-$(free_port)}
RABBITMQ_DIST_PORT=$(free_port)
ERL_EPMD_PORT=$(free_port)
ENV
  set -a
  # shellcheck source=/dev/null
  . "$dir/node.env"
  set +a
fi

case "$action" in
  start|run)
    mkdir -p "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
    [ -f "$dir/.erlang.cookie" ] || { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$dir/.erlang.cookie"; chmod 400 "$dir/.erlang.cookie"; }
    : > "$RABBITMQ_CONF_ENV_FILE"
    echo '[].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    echo '[].' > "$RABBITMQ_ADVANCED_CONFIG_FILE"
    cat > "$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.1 = 127.0.0.1:$RABBITMQ_NODE_PORT
disk_free_limit.absolute = 50MB
log.console = false
log.file.level = warning
CONF
    # Run mode stops the node when told to, from the first moment: a stop while it boots must not leave the Erlang VM
    # (in a session of its own) and its epmd behind.
    if [ "$action" = run ]; then trap 'stop_node; exit 0' TERM INT; fi
    if ! running; then
      setsid nohup "$bin/rabbitmq-server" > "$RABBITMQ_LOG_BASE/startup.log" 2>&1 < /dev/null &
      echo $! > "$dir/server.pid"
      # await_startup waits for the boot to finish; it fails at once while the node is not up at all, so it is retried
      # until the server process is gone or 60 s have passed. Each rabbitmqctl is an Erlang VM of its own (a second or
      # two of CPU), so it is first asked once the node is listed by its epmd (a plain client, next to no CPU).
      deadline=$((SECONDS + 60))
      until registered; do
        kill -0 "$(cat "$dir/server.pid")" 2>/dev/null || fail "the node exited while starting; see $RABBITMQ_LOG_BASE/startup.log"
        [ $SECONDS -lt $deadline ] || fail "the node did not start within 60 s; see $RABBITMQ_LOG_BASE"
        sleep 0.2
      done
      until ctl await_startup --timeout 30 >/dev/null 2>&1; do
        kill -0 "$(cat "$dir/server.pid")" 2>/dev/null || fail "the node exited while starting; see $RABBITMQ_LOG_BASE/startup.log"
        [ $SECONDS -lt $deadline ] || fail "the node did not start within 60 s; see $RABBITMQ_LOG_BASE"
      done
    fi
    url="amqp://guest:guest@127.0.0.1:$RABBITMQ_NODE_PORT/"
    if [ "$action" = start ]; then
      echo "$url"
      exit 0
    fi
    announcement="{\"endpoints\": {\"rabbitMqUrl\": \"$url\"}, \"environment\": {\"Bus__RabbitMqUrl\": \"$url\"}}"
    if [ -n "${STREAMING_ANNOUNCE:-}" ]; then
      printf '%s\n' "$announcement" > "$STREAMING_ANNOUNCE.tmp" && mv "$STREAMING_ANNOUNCE.tmp" "$STREAMING_ANNOUNCE"
    fi
    echo "RabbitMQ node $RABBITMQ_NODENAME listening on $url"
    # The node runs until it is stopped; its end (a crash) ends this script with an error, for the supervisor to restart.
    while kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; do wait "$(cat "$dir/server.pid")" 2>/dev/null || sleep 1; done
    fail "the node stopped; see $RABBITMQ_LOG_BASE"
    ;;
  stop)
    # shutdown returns once the node's OS process has exited; the server's session is only signalled if that failed.
    stop_node
    ;;
  ctl)
    shift 2
    ctl "$@"
    ;;
  *) echo "usage: $0 start|stop|ctl DATA_DIR [PORT|ARGS]" >&2; exit 2 ;;
esac
