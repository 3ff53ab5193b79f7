#!/usr/bin/env bash
# Prints a TCP port of 127.0.0.1 that nothing listens on, drawn from below the kernel's ephemeral range (32768 and up):
# a port from that range may be taken by any outgoing connection between this check and the listen that follows it.
set -euo pipefail
python3 -c '
import random, socket
for _ in range(100):
    port = random.randint(20000, 32767)
    try:
        socket.socket().bind(("127.0.0.1", port))
        print(port)
        break
    except OSError:
        pass
else:
    raise SystemExit("no free port")'
