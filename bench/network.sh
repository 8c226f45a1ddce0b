#!/bin/bash
# Network figure (issue 14): a guest's TCP throughput and request latency to a peer, in shared,
# routed and bridge mode, against the host's own, side by side in one run. Standalone:
#   bench/network.sh [SECONDS]   (default 5 s per throughput run; ROUNDS=3, RTTN=5000 round trips)
# Also figure 7 of bench/run, which sets RES (the table goes to $RES/network.md) and QUICK.
# The peer is a network namespace this script makes, joined to the host by veth links in
# 198.18.60.0/24 (routed, shared, host) and through a bridge in 198.18.61.0/24 (bridge mode):
# benchmarking ranges, routed nowhere else. The client is the host's iperf3 (and a small python
# round-trip client) run in each guest's network context: its namespace (routed, bridge) or its
# socket cgroup on the host's stack (shared), so the rows differ only in the path the packets
# take. Everything made here (guests, links, namespace, processes, state root) is removed on
# exit, even on failure. Prints a Markdown table.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
QUICK=${QUICK:-0}
SECS=${1:-$([ "$QUICK" = 1 ] && echo 2 || echo 5)}
[ "$(id -u)" = 0 ] || { echo "bench/network.sh: must run as root" >&2; exit 1; }
[ -x "$REPO/bin/vserver" ] || { echo "bench/network.sh: run 'make build' first" >&2; exit 1; }
for p in iperf3 python3 busybox-static; do
  dpkg -s "$p" >/dev/null 2>&1 || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$p" >/dev/null; } || { echo "bench/network.sh: cannot install $p" >&2; exit 1; }
done

W=$(mktemp -d /tmp/vsnetbench.XXXXXX)
chmod 0711 "$W" # guests in user namespaces reach their roots below it
VR=$W/root
TAG=$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')
PNS=vsb${TAG}p UP=vsb${TAG}u BR=vsb${TAG}b BP=vsb${TAG}q
PIDS=()
log() { printf '[netbench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
vs() { VSERVER_ROOT="$VR" "$REPO/bin/$@"; }

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for g in nshared nrouted nbridge; do vs vserver --silent "$g" stop >/dev/null 2>&1; done
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done
  ip link del "$UP" 2>/dev/null; ip link del "$BP" 2>/dev/null; ip link del "$BR" 2>/dev/null
  ip netns del "$PNS" 2>/dev/null
  rm -rf "$W"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for net in 198.18.60. 198.18.61.; do
  ip -o addr | grep -v ": vsb" | grep -q " inet $net" && { echo "bench/network.sh: the host already uses ${net}0/24" >&2; exit 1; }
done

log "setup: peer namespace $PNS, uplink $UP, bridge $BR"
ip netns add "$PNS" && ip -n "$PNS" link set lo up || exit 1
ip link add "$UP" type veth peer name "${UP}c" netns "$PNS" || exit 1
ip addr add 198.18.60.1/24 dev "$UP" && ip link set "$UP" up
ip -n "$PNS" addr add 198.18.60.100/24 dev "${UP}c" && ip -n "$PNS" link set "${UP}c" up
ip link add "$BR" type bridge && ip addr add 198.18.61.1/24 dev "$BR" && ip link set "$BR" up || exit 1
ip link add "$BP" type veth peer name "${BP}c" netns "$PNS" && ip link set "$BP" master "$BR" && ip link set "$BP" up
ip -n "$PNS" addr add 198.18.61.100/24 dev "${BP}c" && ip -n "$PNS" link set "${BP}c" up

cat > "$W/rtt.py" <<'EOF'
import socket, sys, time
if sys.argv[1] == "serve":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 5301)); s.listen()
    while True:
        c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            d = c.recv(64)
            if not d: break
            c.sendall(d)
        c.close()
n = int(sys.argv[3]); c = socket.create_connection((sys.argv[2], 5301)); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
msg = b"x" * 64; t = []
for _ in range(n):
    a = time.perf_counter(); c.sendall(msg); got = 0
    while got < 64: got += len(c.recv(64 - got))
    t.append(time.perf_counter() - a)
t.sort(); print("%.1f %.1f" % (t[len(t) // 2] * 1e6, t[int(len(t) * 0.99)] * 1e6))
EOF
ip netns exec "$PNS" python3 "$W/rtt.py" serve & PIDS+=($!)
ip netns exec "$PNS" iperf3 -s -D -I "$W/iperf3.pid" >/dev/null || exit 1
sleep 0.5; PIDS+=("$(cat "$W/iperf3.pid")")

log "setup: guests in shared, routed and bridge mode"
guest() {
  local name=$1; shift
  vs vserver "$name" build -m busybox -q >/dev/null || return 1
  mkdir -p "$VR/etc/vservers/$name/interfaces/00"
  while [ $# -gt 0 ]; do printf '%s\n' "$2" > "$VR/etc/vservers/$name/interfaces/$1"; shift 2; done
  vs vserver "$name" start >/dev/null
}
guest nshared mode shared dev "$UP" 00/ip 198.18.60.20 || exit 1
guest nrouted dev "$UP" 00/ip 198.18.60.10 || exit 1
guest nbridge mode bridge dev "$BR" 00/ip 198.18.61.10 00/prefix 24 || exit 1

# in CONTEXT CMD...: run a host command in a guest's network context (or the host's own).
in_ctx() {
  local ctx=$1; shift
  case $ctx in
    host) "$@" ;;
    nshared) local cg; cg=/sys/fs/cgroup/unified$(sed -n 's/.*"cgroupPath":"\([^"]*\)".*/\1/p' "$VR/run/vservers/nshared")
             sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@" ;;
    *) nsenter --net="$VR/run/vservers/.net/ns/$ctx" -- "$@" ;;
  esac
}

RTTN=${RTTN:-5000}
[ "$QUICK" = 1 ] && ROUNDS=1 || ROUNDS=${NET_ROUNDS:-3}
ROWS=("host:198.18.60.100:host's own stack" "nshared:198.18.60.100:shared (host's stack, programs)"
      "nrouted:198.18.60.100:routed (veth, forwarded)" "nbridge:198.18.61.100:bridge (veth on a bridge)")
# Rounds go across the rows (host, shared, routed, bridge, host, ...), so a change of the
# machine's load during the run spreads over all rows; each cell is the median of its rounds.
for ((r = 1; r <= ROUNDS; r++)); do
  for row in "${ROWS[@]}"; do
    ctx=${row%%:*}; rest=${row#*:}; peer=${rest%%:*}
    log "round $r: $ctx"
    in_ctx "$ctx" iperf3 -c "$peer" -t "$SECS" -J 2>/dev/null \
      | python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))' >> "$W/$ctx.gbps" 2>/dev/null
    in_ctx "$ctx" python3 "$W/rtt.py" client "$peer" "$RTTN" >> "$W/$ctx.rtt" 2>/dev/null
  done
done
median() { sort -n | awk '{a[NR]=$1} END{if (NR) print a[int((NR+1)/2)]; else print "failed"}'; }
{
printf '| path | TCP throughput (Gbit/s) | round trip p50 (µs) | p99 (µs) |\n|---|---|---|---|\n'
for row in "${ROWS[@]}"; do
  ctx=${row%%:*}; label=${row#*:}; label=${label#*:}
  printf '| %s | %s | %s | %s |\n' "$label" "$(median < "$W/$ctx.gbps")" \
    "$(awk '{print $1}' "$W/$ctx.rtt" | median)" "$(awk '{print $2}' "$W/$ctx.rtt" | median)"
done
} | tee "${RES:-$W}/network.md"
