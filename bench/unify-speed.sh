#!/bin/bash
# hashify, re-hashify and clone times of one Debian guest, for one or more builds of vserver side
# by side (docs/unification.md, "Measured"): each round makes a plain copy of the source guest
# (build -m clone, reflinked), hashifies it, changes a package's files inside and hashifies it
# again, clones it twice, then removes it all and empties the store (gc), so that every build
# starts from the same store. Builds take turns, round by round.
#
# Usage: bench/unify-speed.sh [ROUNDS] [REPO[=EXCLUDE]...]   (as root; default 2 rounds, this checkout)
#   REPO=FILE      that build, with FILE as the guest's apps/vunify/exclude (else the built-in list)
# The source guest is debootstrapped bookworm minbase + cron from the test cache
# (/var/cache/vservers-test/debootstrap). Everything lives under /tmp on a loop-backed XFS,
# removed on exit. Commands run without the service (VSERVER_SERVICE=off), so builds never share one.
set -uo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-2}; shift || true
SPECS=("$@"); [ ${#SPECS[@]} -gt 0 ] || SPECS=("$HERE")
REPOS=(); for spec in "${SPECS[@]}"; do REPOS+=("${spec%%=*}"); done
[ "$(id -u)" = 0 ] || { echo "bench/unify-speed.sh: must run as root" >&2; exit 1; }
for r in "${REPOS[@]}"; do [ -x "$r/bin/vserver" ] || { echo "bench/unify-speed.sh: $r has no bin/vserver ('make build' there)" >&2; exit 1; }; done

W=$(mktemp -d /tmp/vsbench-unify-speed.XXXXXX)
chmod 711 "$W"
VR=$W/root POOL=$W/root/vservers
export VSERVER_SERVICE=off
log() { printf '[unify-speed %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
vs() { local repo=$1; shift; VSERVER_ROOT="$VR" "$repo/bin/$@"; }
cleanup() {
  trap - EXIT INT TERM
  for d in "$VR"/etc/vservers/*/; do [ -d "$d" ] && vs "${REPOS[0]}" vserver -s "$(basename "$d")" delete --force >/dev/null 2>&1; done
  umount "$POOL" 2>/dev/null || umount -l "$POOL" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ms() { date +%s%N; }
since() { echo $(( ($(ms) - $1) / 1000000 )); }

mkdir -p "$POOL"
truncate -s 6G "$W/pool.img" && mkfs.xfs -q "$W/pool.img" && mount -o loop "$W/pool.img" "$POOL" || exit 1
mkdir -p "$VR/var/cache/vservers" && ln -s /var/cache/vservers-test/debootstrap "$VR/var/cache/vservers/debootstrap"
log "source: debootstrap bookworm (cron) from the package cache"
vs "${REPOS[0]}" vserver src build -m debootstrap --quiet -- -d bookworm -- --include=cron >/dev/null || exit 1
files=$(find "$POOL/src" -xdev -type f | wc -l); mib=$(du -sm "$POOL/src" | cut -f1)

echo "| round | build | hashify | re-hashify | clone (2×) |"
echo "|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  for spec in "${SPECS[@]}"; do
    repo=${spec%%=*}
    vs "$repo" vserver g build -m clone --quiet -- -s src >/dev/null || exit 1
    if [ "$spec" != "$repo" ]; then mkdir -p "$VR/etc/vservers/g/apps/vunify" && cp "${spec#*=}" "$VR/etc/vservers/g/apps/vunify/exclude"; fi
    sync
    t=$(ms); vs "$repo" vserver g hashify >/dev/null || exit 1; h=$(since "$t")
    # A package's files written anew inside (as an upgrade does), from outside through exec.
    vs "$repo" vserver g start >/dev/null || exit 1
    vs "$repo" vserver g exec sh -c 'for f in $(dpkg -L cron | while read p; do [ -f "$p" ] && echo "$p"; done); do cp -p "$f" "$f.new" && mv "$f.new" "$f"; done' || exit 1
    vs "$repo" vserver g stop >/dev/null || exit 1
    t=$(ms); vs "$repo" vserver g hashify >/dev/null || exit 1; r=$(since "$t")
    c=""
    for i in 1 2; do t=$(ms); vs "$repo" vserver "c$i" build -m clone --quiet -- -s g >/dev/null || exit 1; c="$c$(since "$t") ms "; done
    echo "| $round | $spec | $h ms | $r ms | $c|"
    for n in c1 c2 g; do vs "$repo" vserver "$n" delete --force >/dev/null || exit 1; done
    vs "$repo" vhashify --gc >/dev/null || exit 1
  done
done
echo
echo "source: $files files, $mib MiB; $(nproc) cores, kernel $(uname -r), loop-backed XFS, $(date -u +%F)"
