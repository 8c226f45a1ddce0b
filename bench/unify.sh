#!/bin/bash
# Unification, side by side in one run (docs/unification.md): disk of N guests unified against N
# plain copies (which `build -m clone` reflinks on XFS, so they share blocks on disk too) and N
# LXC snapshot clones (`lxc-copy -s -B overlay` of an LXC container holding the same tree, on a
# loop-backed XFS of their own), build -m clone, lxc-copy and hashify times, start + stop of a
# unified guest against a plain one, and the page cache that K guests reading the same file fill,
# unified against plain copies and LXC snapshots. LXC_PLAIN (default 3) full `lxc-copy` copies
# (dir backing store: rsync) are timed and measured too; 0 skips them.
#
# Usage: bench/unify.sh [N] [K]   (as root, after 'make build'; default N=10, K=5)
#   DEBIAN=1   the source guest is a debootstrapped Debian (packages from the test cache,
#              /var/cache/vservers-test/debootstrap, which the debootstrap test fills); else busybox
# Everything lives in its own directory under /tmp on a loop-backed XFS, removed on exit. The page
# cache is measured per file (fincore, and POSIX_FADV_DONTNEED on that file alone): the host's
# caches are never dropped. Prints a Markdown table.
set -uo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-10}; K=${2:-5}; LXC_PLAIN=${LXC_PLAIN:-3}
[ "$K" -ge 2 ] && [ "$N" -ge "$K" ] || { echo "bench/unify.sh: needs N >= K >= 2" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench/unify.sh: must run as root" >&2; exit 1; }
[ -x "$REPO/bin/vserver" ] || { echo "bench/unify.sh: run 'make build' first" >&2; exit 1; }
for t in mkfs.xfs hyperfine fincore jq lxc-copy lxc-execute; do command -v $t >/dev/null || { echo "bench/unify.sh: needs $t" >&2; exit 1; }; done

W=$(mktemp -d /tmp/vsbench-unify.XXXXXX)
# Guests in a user namespace reach their roots under $VR through here (as the state root itself).
chmod 711 "$W"
VR=$W/root POOL=$W/root/vservers LXCP=$W/lxc
log() { printf '[unify %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
vs() { VSERVER_ROOT="$VR" "$REPO/bin/$@"; }
cleanup() {
  trap - EXIT INT TERM
  for d in "$VR"/etc/vservers/*/; do [ -d "$d" ] && vs vserver -s "$(basename "$d")" stop >/dev/null 2>&1; done
  for d in "$VR"/etc/vservers/*/; do [ -d "$d" ] && vs vserver -s "$(basename "$d")" delete --force >/dev/null 2>&1; done
  vs vserverd --stop >/dev/null 2>&1
  # LXC containers of our own lxcpath only
  for c in $(lxc-ls -P "$LXCP" 2>/dev/null); do
    lxc-stop -P "$LXCP" -n "$c" -k >/dev/null 2>&1; lxc-destroy -P "$LXCP" -n "$c" >/dev/null 2>&1
  done
  for m in "$POOL" "$LXCP"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$POOL" "$LXCP"
truncate -s 8G "$W/pool.img" && mkfs.xfs -q "$W/pool.img" && mount -o loop "$W/pool.img" "$POOL" || exit 1
# The base of guest roots is a barrier (mode 0000, docs/security.md); a fresh file system's root
# is 0755, which the first build would close with a warning.
chmod 0000 "$POOL"
truncate -s 8G "$W/lxc.img" && mkfs.xfs -q "$W/lxc.img" && mount -o loop "$W/lxc.img" "$LXCP" || exit 1
used_mib() { sync; df -B1M --output=used "${1:-$POOL}" | tail -1 | tr -d ' '; }
ms() { date +%s%N; }
empty=$(used_mib); lxc_empty=$(used_mib "$LXCP")

if [ "${DEBIAN:-0}" = 1 ]; then
  mkdir -p "$VR/var/cache/vservers" && ln -s /var/cache/vservers-test/debootstrap "$VR/var/cache/vservers/debootstrap"
  log "source: debootstrap bookworm (cron) from the package cache"
  vs vserver src build -m debootstrap --quiet -- -d bookworm -- --include=cron >/dev/null || exit 1
else
  log "source: busybox"
  vs vserver src build -m busybox --quiet >/dev/null || exit 1
fi
one=$(( $(used_mib) - empty ))
# The largest file the default exclude list (apps/vunify/exclude) lets into the store, for the
# page-cache rows: the largest of the whole tree is /var's or /etc's on Debian, which a unified
# guest keeps to itself.
big=$(cd "$POOL/src" && find usr bin sbin lib -xdev -type f -printf '%s %p\n' 2>/dev/null | sort -n | tail -1 | cut -d' ' -f2-)
[ -n "$big" ] || { log "no file under /usr, /bin, /sbin or /lib of the source guest"; exit 1; }
bigsize=$(stat -c %s "$POOL/src/$big")

# The LXC side: a container holding a copy of the same tree (as bench/build.sh makes one).
log "LXC: container 'src' with the same tree, $N lxc-copy -s -B overlay snapshots"
mkdir -p "$LXCP/src"
printf 'lxc.uts.name = src\nlxc.rootfs.path = dir:%s\nlxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n' "$LXCP/src/rootfs" > "$LXCP/src/config"
cp -a "$POOL/src" "$LXCP/src/rootfs" || exit 1
lxc_one=$(( $(used_mib "$LXCP") - lxc_empty ))
t0=$(ms); for i in $(seq 1 "$N"); do lxc-copy -P "$LXCP" -n src -N "s$i" -s -B overlay >/dev/null || exit 1; done
lxc_snap_ms=$(( ($(ms) - t0) / 1000000 / N ))
lxc_snap=$(( $(used_mib "$LXCP") - lxc_empty ))
# Each figure is logged as it is measured, so that a run failing later still gives them.
log "LXC: one $lxc_one MiB, $N snapshots $lxc_snap MiB, $lxc_snap_ms ms each"
lxc_plain_ms=0 lxc_plain_each=0
if [ "$LXC_PLAIN" -gt 0 ]; then
  log "LXC: $LXC_PLAIN full lxc-copy copies (dir: rsync)"
  before=$(used_mib "$LXCP")
  t0=$(ms); for i in $(seq 1 "$LXC_PLAIN"); do lxc-copy -P "$LXCP" -n src -N "c$i" >/dev/null || exit 1; done
  lxc_plain_ms=$(( ($(ms) - t0) / 1000000 / LXC_PLAIN ))
  lxc_plain_each=$(( ($(used_mib "$LXCP") - before) / LXC_PLAIN ))
  log "LXC: full copies $lxc_plain_ms ms and $lxc_plain_each MiB each"
  for i in $(seq 1 "$LXC_PLAIN"); do lxc-destroy -P "$LXCP" -n "c$i" >/dev/null || exit 1; done
fi

log "$N plain copies (build -m clone)"
t0=$(ms); for i in $(seq 1 "$N"); do vs vserver "p$i" build -m clone --quiet -- -s src >/dev/null || exit 1; done
plain_clone_ms=$(( ($(ms) - t0) / 1000000 / N ))
plain=$(( $(used_mib) - empty ))
log "plain: one $one MiB, $N copies $plain MiB, $plain_clone_ms ms each"
for i in $(seq $((K + 1)) "$N"); do vs vserver "p$i" delete --force >/dev/null; done

log "hashify, then $N unified clones"
t0=$(ms); vs vserver src hashify >/dev/null || exit 1; hashify_ms=$(( ($(ms) - t0) / 1000000 ))
base=$(used_mib)
t0=$(ms); for i in $(seq 1 "$N"); do vs vserver "u$i" build -m clone --quiet -- -s src >/dev/null || exit 1; done
unified_clone_ms=$(( ($(ms) - t0) / 1000000 / N ))
# src and the K plain copies still there are not counted: what the N unified guests added to one.
unified=$(( one + $(used_mib) - base ))
log "unified: hashify $hashify_ms ms, $N guests $unified MiB, $unified_clone_ms ms each"

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
lxc_lower="$LXCP/src/rootfs/$big"
plain_pages() { local i t=0; for i in $(seq 1 "$K"); do t=$(( t + $(pages "$POOL/p$i/$big") )); done; echo $t; }
for i in $(seq 1 "$K"); do vs vserver "u$i" start >/dev/null && vs vserver "p$i" start >/dev/null || exit 1; done
evict "$object"; evict "$lxc_lower"
for i in $(seq 1 "$K"); do evict "$POOL/p$i/$big"; done
# Each LXC snapshot reads through its own overlay, in a container of its own (lxc-execute), whose
# lower layer is the source container's tree: the page cache filled is that file's.
read_all() {
  vs vserver "u$1" exec sh -c "cat '/$big' >/dev/null" || exit 1
  vs vserver "p$1" exec sh -c "cat '/$big' >/dev/null" || exit 1
  lxc-execute -P "$LXCP" -n "s$1" -- /bin/sh -c "cat '/$big' >/dev/null" || exit 1
}
# The first guest's read, then the K-1 others': what each additional guest adds.
read_all 1
first_u=$(pages "$object") first_p=$(plain_pages) first_l=$(pages "$lxc_lower")
for i in $(seq 2 "$K"); do read_all "$i"; done
cache_u=$(pages "$object") cache_p=$(plain_pages) cache_l=$(pages "$lxc_lower")
for i in $(seq 1 "$K"); do vs vserver "u$i" stop >/dev/null; vs vserver "p$i" stop >/dev/null; done

kib() { echo $(( $1 / 1024 )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a/b}'; }
added() { echo $(( ($2 - $1) / 1024 / (K - 1) )); }
cat <<EOF
## Unification ($(if [ "${DEBIAN:-0}" = 1 ]; then echo "Debian bookworm minbase + cron"; else echo busybox; fi), $(date -u +%F), $(nproc) cores, kernel $(uname -r), loop-backed XFS)

| measure | unified | plain copies (build -m clone: cp -a --reflink=auto) | LXC snapshots (lxc-copy -s -B overlay) |
|---|---|---|---|
| disk of one guest | $one MiB | $one MiB | $lxc_one MiB |
| disk of $N guests | $unified MiB ($(ratio $unified $one)× one) | $plain MiB ($(ratio $plain $one)× one) | $lxc_snap MiB ($(ratio $lxc_snap $lxc_one)× one) |
| clone, per guest | $unified_clone_ms ms | $plain_clone_ms ms | $lxc_snap_ms ms |
| hashify of the source | $hashify_ms ms | – | – |
| start + stop | $ss_u ms | $ss_p ms | – |
| page cache after $K guests read /$big ($(kib $bigsize) KiB) | $(kib $cache_u) KiB | $(kib $cache_p) KiB | $(kib $cache_l) KiB |
| page cache added per guest after the first | $(added $first_u $cache_u) KiB | $(added $first_p $cache_p) KiB | $(added $first_l $cache_l) KiB |
EOF
if [ "$LXC_PLAIN" -gt 0 ]; then
  printf '\nFull lxc-copy copies (dir backing store: rsync; %s of them): %s ms and %s MiB each.\n' "$LXC_PLAIN" "$lxc_plain_ms" "$lxc_plain_each"
fi
