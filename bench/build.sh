#!/bin/bash
# Figure 5, build: `build -m busybox`, `build -m clone` of a debootstrapped guest and `build -m
# debootstrap` from the package cache, against `cp -a` of the same tree, `lxc-copy` of an LXC
# container holding the same tree, and debootstrap itself. Offline: the package cache
# (/var/cache/vservers-test/debootstrap, the test suite's download) is served as a local file://
# mirror. In --quick mode (DEBOOTSTRAP=0) the clone source is the busybox guest instead.
source "$REPO/bench/lib.sh"
CACHE=${DEBOOTSTRAP_CACHE:-/var/cache/vservers-test/debootstrap/bookworm-amd64}
SRC=bb
if [ "$DEBOOTSTRAP" = 1 ]; then
  if ! ls "$CACHE"/*.deb >/dev/null 2>&1; then
    log "build: no package cache at $CACHE (run the debootstrap integration test once); debootstrap rows skipped"
    DEBOOTSTRAP=0
  fi
fi
DBARGS=""
if [ "$DEBOOTSTRAP" = 1 ]; then
  M=$W/mirror; mkdir -p "$M/pool" "$M/dists/bookworm/main/binary-amd64"
  cp "$CACHE"/*.deb "$M/pool/"
  Pk=dists/bookworm/main/binary-amd64/Packages
  (cd "$M" && dpkg-scanpackages -m pool /dev/null > $Pk 2>/dev/null) || exit 1
  { printf 'Suite: bookworm\nCodename: bookworm\nArchitectures: amd64\nComponents: main\nSHA256:\n'
    printf ' %s %s main/binary-amd64/Packages\n' "$(sha256sum "$M/$Pk" | cut -d' ' -f1)" "$(stat -c %s "$M/$Pk")"; } > "$M/dists/bookworm/Release"
  DBARGS="-d bookworm -m file://$M -- --no-check-gpg"
  log "build: the debootstrapped source guest 'deb'"
  vs vserver deb build -m debootstrap -q -- $DBARGS >/dev/null || { log "build: debootstrap failed"; exit 1; }
  SRC=deb
fi
# an LXC container holding the same tree as $SRC, for lxc-copy
mkdir -p "$LXCP/src"
printf 'lxc.uts.name = src\nlxc.rootfs.path = dir:%s\nlxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n' "$LXCP/src/rootfs" > "$LXCP/src/config"
cp -a "$VR/vservers/$SRC" "$LXCP/src/rootfs"
du -sk "$VR/vservers/$SRC" | awk -v s=$SRC '{printf "{\"source\":\"%s\",\"size_kb\":%d}\n", s, $1}' >> "$RES/build.jsonl"

hf build small "$BUILD_RUNS" \
  -n 'vserver build -m busybox' --prepare "sh -c 'VSERVER_ROOT=$VR $B_BIN/vserver nb delete --force >/dev/null 2>&1; true'" "$B_BIN/vserver nb build -m busybox -q" \
  -n 'cp -a (busybox guest tree)' --prepare "rm -rf $W/cp-bb" "cp -a $VR/vservers/bb $W/cp-bb" \
  -n "vserver build -m clone -s $SRC" --prepare "sh -c 'VSERVER_ROOT=$VR $B_BIN/vserver nc delete --force >/dev/null 2>&1; true'" "$B_BIN/vserver nc build -m clone -q -- -s $SRC" \
  -n "cp -a ($SRC tree)" --prepare "rm -rf $W/cp-src" "cp -a $VR/vservers/$SRC $W/cp-src" \
  -n "lxc-copy ($SRC tree)" --prepare "sh -c 'lxc-destroy -P $LXCP -n dst >/dev/null 2>&1; true'" "lxc-copy -P $LXCP -n src -N dst" || exit 1
vs vserver nb delete --force >/dev/null 2>&1; vs vserver nc delete --force >/dev/null 2>&1
lxc-destroy -P "$LXCP" -n dst >/dev/null 2>&1; rm -rf "$W/cp-bb" "$W/cp-src"

if [ "$DEBOOTSTRAP" = 1 ]; then
  R=$(( BUILD_RUNS > 3 ? 3 : BUILD_RUNS ))
  ROUNDS=1 WARMUP=0 hf build debootstrap "$R" \
    -n 'vserver build -m debootstrap (cache)' --prepare "sh -c 'VSERVER_ROOT=$VR $B_BIN/vserver nd delete --force >/dev/null 2>&1; true'" "$B_BIN/vserver nd build -m debootstrap -q -- $DBARGS" \
    -n 'debootstrap --variant=minbase (same mirror)' --prepare "rm -rf $W/db" "debootstrap --no-check-gpg --variant=minbase bookworm $W/db file://$M" \
    -n 'cp -a (debootstrapped tree)' --prepare "rm -rf $W/cp-src" "cp -a $VR/vservers/deb $W/cp-src" || exit 1
  vs vserver nd delete --force >/dev/null 2>&1; rm -rf "$W/db" "$W/cp-src"
  vs vserver deb delete --force >/dev/null 2>&1
fi
lxc-destroy -P "$LXCP" -n src >/dev/null 2>&1
exit 0
