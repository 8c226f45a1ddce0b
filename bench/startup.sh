#!/bin/bash
# Figure 6, command start-up: what the language runtime costs before any work, through the host
# service and run directly.
source "$REPO/bench/lib.sh"
hf startup all "$RUNS_FAST" \
  -n '/bin/true' '/bin/true' \
  -n 'bun -e 0' "$BUN -e 0" \
  -n 'node -e 0' 'node -e 0' \
  -n 'vserver --help' "$B_BIN/vserver --help" \
  -n 'vserver-stat --help' "$B_BIN/vserver-stat --help" \
  -n 'vps --help' "$B_BIN/vps --help" \
  -n 'vserver-info --help' "$B_BIN/vserver-info --help" \
  -n 'vserver --help, without the service (VSERVER_SERVICE=off)' "env VSERVER_SERVICE=off $B_BIN/vserver --help"
