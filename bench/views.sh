#!/bin/bash
# Figure 4, views: vserver-stat and vps ax against ps ax, with N guests running (N = $1; called by
# density.sh while its guests run, and by itself for 0). Both are served warm by the host service;
# the same commands run directly (VSERVER_SERVICE=off) are measured beside them.
source "$REPO/bench/lib.sh"
N=$1
hf views "n$N" "$RUNS_FAST" \
  -n "ps ax ($N guests)" 'ps ax' \
  -n "vserver-stat ($N guests)" "$B_BIN/vserver-stat" \
  -n "vps ax ($N guests)" "$B_BIN/vps ax" \
  -n "vserver-stat, without the service ($N guests)" "env VSERVER_SERVICE=off $B_BIN/vserver-stat" \
  -n "vps ax, without the service ($N guests)" "env VSERVER_SERVICE=off $B_BIN/vps ax"
