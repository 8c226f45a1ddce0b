#!/bin/bash
# Figure 4, views: vserver-stat and vps ax against ps ax, with N guests running (N = $1; called by
# density.sh while its guests run, and by itself for 0). Both commands are native (src/native); the
# TypeScript path (VSERVER_NATIVE=0) is measured beside them for reference.
source "$REPO/bench/lib.sh"
N=$1
hf views "n$N" "$RUNS_FAST" \
  -n "ps ax ($N guests)" 'ps ax' \
  -n "vserver-stat ($N guests)" "$B_BIN/vserver-stat" \
  -n "vps ax ($N guests)" "$B_BIN/vps ax" \
  -n "vserver-stat, TypeScript path ($N guests)" "env VSERVER_NATIVE=0 $B_BIN/vserver-stat" \
  -n "vps ax, TypeScript path ($N guests)" "env VSERVER_NATIVE=0 $B_BIN/vps ax"
