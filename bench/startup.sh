#!/bin/bash
# Figure 6, command start-up: what the language runtime costs before any work.
source "$REPO/bench/lib.sh"
COMPILED=""; [ -x "$W/vserver-compiled" ] && COMPILED=$W/vserver-compiled
hf startup all "$RUNS_FAST" \
  -n '/bin/true' '/bin/true' \
  -n 'bun -e 0' "$BUN -e 0" \
  -n 'node -e 0' 'node -e 0' \
  -n 'vserver --help' "$B_BIN/vserver --help" \
  -n 'vserver-stat --help' "$B_BIN/vserver-stat --help" \
  -n 'vps --help' "$B_BIN/vps --help" \
  ${COMPILED:+-n 'vserver --help (bun build --compile --bytecode)' "$COMPILED --help"}
