#!/bin/bash
# Writes the node's configuration (its listener, the default user from the environment, logs to the console) and
# runs the node in the foreground.
set -euo pipefail
[ -n "${RABBITMQ_DEFAULT_PASS:-}" ] || { echo "RABBITMQ_DEFAULT_PASS is required" >&2; exit 1; }
cat > "$RABBITMQ_CONFIG_FILE" <<CONF
listeners.tcp.default = ${RABBITMQ_NODE_PORT:-5672}
default_user = ${RABBITMQ_DEFAULT_USER:-guest}
default_pass = ${RABBITMQ_DEFAULT_PASS}
loopback_users = none
log.console = true
log.console.level = warning
log.file = false
disk_free_limit.absolute = 50MB
CONF
unset RABBITMQ_DEFAULT_USER RABBITMQ_DEFAULT_PASS
exec rabbitmq-server
