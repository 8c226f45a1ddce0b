#!/bin/bash
# Unification, side by side in one run (docs/unification.md): disk of N guests unified against N
# plain copies (which `build -m clone` reflinks on XFS, so they share blocks on disk too), build -m clone and hashify times, start + stop of a unified guest against a plain
# one, and the page cache that K guests reading the same file fill, unified against plain.
#
# Usage: bench/unify.sh [N] [K]   (as root, after 'make build'; default N=10, K=5)
#   DEBIAN=1   the source guest is a debootstrapped Debian (packages from the test cache,
#              /var/cache/vservers-test/debootstrap, which the debootstrap test fills); else busybox
# Everything lives in its own directory under /tmp on a loop-backed XFS, removed on exit. The page
# cache is measured per file (fincore, and POSIX_FADV_DONTNEED on that file alone): the host's
# caches are never dropped. Prints a Markdown table.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-10}; K=${2:-5}
[ "$(id -u)" = 0 ] || { echo "bench/unify.sh: must run as root" >&2; exit 1; }
[ -x "$REPO/bin/vserver" ] || { echo "bench/unify.sh: run 'make build' first" >&2; exit 1; }
for t in mkfs.xfs hyperfine fincore jq; do command -v $t >/dev/null || { echo "bench/unify.sh: needs $t" >&2; exit 1; }; done

W=$(mktemp -d /tmp/vsbench-unify.XXXXXX)
# Guests in a user namespace reach their roots under $VR through here (as the state root itself).
chmod 711 "$W"
VR=$W/root POOL=$W/root/vservers
log() { printf '[unify %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
vs() { VSERVER_ROOT="$VR" "$REPO/bin/$@"; }
cleanup() {
  trap - EXIT INT TERM
  for d in "$VR"/etc/vservers/*/; do [ -d "$d" ] && vs vserver -s "$(basename "$d")" stop >/dev/null 2>&1; done
  for d in "$VR"/etc/vservers/*/; do [ -d "$d" ] && vs vserver -s "$(basename "$d")" delete --force >/dev/null 2>&1; done
  vs vserverd --stop >/dev/null 2>&1
  umount "$POOL" 2>/dev/null || umount -l "$POOL" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$POOL"
truncate -s 8G "$W/pool.img" && mkfs.xfs -q "$W/pool.img" && mount -o loop "$W/pool.img" "$POOL" || exit 1
used_mib() { sync; df -B1M --output=used "$POOL" | tail -1 | tr -d ' '; }
ms() { date +%s%N; }
empty=$(used_mib)

if [ "${DEBIAN:-0}" = 1 ]; then
  mkdir -p "$VR/var/cache/vservers" && ln -s /var/cache/vservers-test/debootstrap "$VR/var/cache/vservers/debootstrap"
  log "source: debootstrap bookworm (cron) from the package cache"
  vs vserver src build -m debootstrap --quiet -- -d bookworm -- --include=cron >/dev/null || exit 1
else
  log "source: busybox"
  vs vserver src build -m busybox --quiet >/dev/null || exit 1
fi
one=$(( $(used_mib) - empty ))
# The largest file of the guest, for the page-cache rows.
big=$(cd "$POOL/src" && find . -xdev -type f -printf '%s %P\n' | sort -n | tail -1 | cut -d' ' -f2-)
bigsize=$(stat -c %s "$POOL/src/$big")

log "$N plain copies (build -m clone)"
t0=$(ms); for i in $(seq 1 "$N"); do vs vserver "p$i" build -m clone --quiet -- -s src >/dev/null || exit 1; done
plain_clone_ms=$(( ($(ms) - t0) / 1000000 / N ))
plain=$(( $(used_mib) - empty ))
for i in $(seq $((K + 1)) "$N"); do vs vserver "p$i" delete --force >/dev/null; done

log "hashify, then $N unified clones"
t0=$(ms); vs vserver src hashify >/dev/null || exit 1; hashify_ms=$(( ($(ms) - t0) / 1000000 ))
base=$(used_mib)
t0=$(ms); for i in $(seq 1 "$N"); do vs vserver "u$i" build -m clone --quiet -- -s src >/dev/null || exit 1; done
unified_clone_ms=$(( ($(ms) - t0) / 1000000 / N ))
# src and the K plain copies still there are not counted: what the N unified guests added to one.
unified=$(( one + $(used_mib) - base ))

log "start + stop (hyperfine)"
# HF_DEBUG=1 shows the commands' output.
if [ -n "${HF_DEBUG:-}" ]; then out=(--show-output); else out=(--style none); fi
hyperfine -N --warmup 1 --runs 5 "${out[@]}" --export-json "$W/ss.json" \
  -n unified "sh -c 'VSERVER_ROOT=$VR $REPO/bin/vserver u1 start >/dev/null && VSERVER_ROOT=$VR $REPO/bin/vserver u1 stop >/dev/null'" \
  -n plain "sh -c 'VSERVER_ROOT=$VR $REPO/bin/vserver p1 start >/dev/null && VSERVER_ROOT=$VR $REPO/bin/vserver p1 stop >/dev/null'" >/dev/null || exit 1
ss_u=$(jq '.results[] | select(.command=="unified") | .mean * 1000 | floor' "$W/ss.json")
ss_p=$(jq '.results[] | select(.command=="plain") | .mean * 1000 | floor' "$W/ss.json")

log "page cache of /$big ($bigsize bytes) read by $K guests"
pages() { fincore --bytes --noheadings --output RES "$1" 2>/dev/null || echo 0; }
evict() { dd if="$1" iflag=nocache count=0 status=none; }
# Objects are named by the SHA-256 of their content (a plain copy still has it).
digest=$(sha256sum "$POOL/p1/$big" | cut -c1-64)
object="$POOL/.unify/store/${digest:0:2}/${digest:2}"
[ -f "$object" ] || { log "no object for /$big in the store"; exit 1; }
cache_u=0; cache_p=0
for i in $(seq 1 "$K"); do vs vserver "u$i" start >/dev/null && vs vserver "p$i" start >/dev/null || exit 1; done
evict "$object"
for i in $(seq 1 "$K"); do evict "$POOL/p$i/$big"; done
for i in $(seq 1 "$K"); do
  vs vserver "u$i" exec sh -c "cat '/$big' >/dev/null"
  vs vserver "p$i" exec sh -c "cat '/$big' >/dev/null"
done
cache_u=$(pages "$object")
for i in $(seq 1 "$K"); do cache_p=$(( cache_p + $(pages "$POOL/p$i/$big") )); done
for i in $(seq 1 "$K"); do vs vserver "u$i" stop >/dev/null; vs vserver "p$i" stop >/dev/null; done

kib() { echo $(( $1 / 1024 )); }
cat <<EOF
## Unification ($(if [ "${DEBIAN:-0}" = 1 ]; then echo "Debian bookworm minbase + cron"; else echo busybox; fi), $(date -u +%F), $(nproc) cores, kernel $(uname -r), loop-backed XFS)

| measure | unified | plain copies (build -m clone: cp -a --reflink=auto) |
|---|---|---|
| disk of one guest | $one MiB | $one MiB |
| disk of $N guests | $unified MiB ($(awk -v u=$unified -v o=$one 'BEGIN{printf "%.2f", u/o}')× one) | $plain MiB ($(awk -v p=$plain -v o=$one 'BEGIN{printf "%.2f", p/o}')× one) |
| build -m clone, per guest | $unified_clone_ms ms | $plain_clone_ms ms |
| hashify of the source | $hashify_ms ms | – |
| start + stop | $ss_u ms | $ss_p ms |
| page cache after $K guests read /$big ($(kib $bigsize) KiB) | $(kib $cache_u) KiB | $(kib $cache_p) KiB |
EOF
