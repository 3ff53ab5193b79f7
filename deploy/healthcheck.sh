#!/bin/bash
# A container's health check without curl (the official runtime images have none): an HTTP GET of
# http://127.0.0.1:$HEALTHCHECK_PORT$HEALTHCHECK_PATH that passes on a 200, or, with HEALTHCHECK_PATH empty, a TCP
# connect to that port.
port=${HEALTHCHECK_PORT:-8081}
path=${HEALTHCHECK_PATH-/health/ready}
exec 3<>"/dev/tcp/127.0.0.1/$port" || exit 1
[ -n "$path" ] || exit 0
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
read -r -t 3 _ status _ <&3 || exit 1
[ "$status" = 200 ]
