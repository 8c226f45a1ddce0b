#!/bin/bash
# Figure 1, exec: `vserver NAME exec /bin/true` into the running busybox guest 'bb', against the
# runtime's own exec of a container from the same root and config, nsenter, lxc-attach, podman exec.
# `vserver` is served warm by the host service (vserverd) and its exec goes through the guest's
# init (a row forces the runtime's exec instead); the rows 'vserver bb running' (a served
# call that only reads the run record), the exact runtime argv our exec runs, and the same exec
# run directly (VSERVER_SERVICE=off, the JavaScript runtime's start included) split the time.
source "$REPO/bench/lib.sh"
set -e
VNS="$VR/run/vservers/.runtime/ns/cgroup-v1-view"
VCR="$VR/run/vservers/.runtime/crun"
# baseline containers: raw crun and runc from our guest's config, LXC, podman (crun) — all idle
crun_run_d "$W/crun-tmpl" vsb-exec
mkdir -p "$W/runc-b/vsb-exec-runc"
sed 's,/vsbench-crun/ID,/vsbench-crun/vsb-exec-runc,' "$W/runc-tmpl/config.json.tmpl" > "$W/runc-b/vsb-exec-runc/config.json"
nsenter --mount="$NS" runc --root "$W/runc-state" run -d --bundle "$W/runc-b/vsb-exec-runc" vsb-exec-runc </dev/null >/dev/null 2>&1
lxc-start -P "$LXCP" -n bb -d 2>/dev/null || true
nsenter --mount="$NS" podman run -d --name vsb-exec $PODMAN_FLAGS --rootfs "$W/rootfs" /bin/sleep 2147483647 >/dev/null
P=$($LCRUN state vsb-exec | jq .pid)
set +e
rows=(
  -n 'vserver bb exec /bin/true' "$B_BIN/vserver bb exec /bin/true"
  -n 'crun exec (nsenter to its view)' "nsenter --mount=$NS crun --root $CRUN_ROOT exec vsb-exec /bin/true"
  -n 'runc exec (no user namespace)' "nsenter --mount=$NS runc --root $W/runc-state exec vsb-exec-runc /bin/true"
  -n 'nsenter -t PID -a /bin/true' "nsenter -t $P -a /bin/true"
  -n 'nsenter --mount=VIEW /bin/true' "nsenter --mount=$NS /bin/true"
  -n 'podman exec' "nsenter --mount=$NS podman exec vsb-exec /bin/true"
  -n 'vserver bb exec /bin/true, without the service (VSERVER_SERVICE=off)' "env VSERVER_SERVICE=off $B_BIN/vserver bb exec /bin/true"
  -n 'vserver bb exec /bin/true through the runtime (VSERVER_EXEC=runtime)' "env VSERVER_EXEC=runtime $B_BIN/vserver bb exec /bin/true"
  -n 'vserver bb running' "$B_BIN/vserver bb running"
  -n 'our exec argv (nsenter + crun exec --no-new-privs)' "nsenter --mount=$VNS -- /usr/bin/crun --root $VCR --cgroup-manager=cgroupfs exec --no-new-privs bb /bin/true"
)
[ -n "$(lxc-info -P "$LXCP" -n bb -sH 2>/dev/null | grep RUNNING)" ] && rows+=(-n 'lxc-attach' "lxc-attach -P $LXCP -n bb -- /bin/true")
hf exec all "$RUNS_FAST" "${rows[@]}"; rc=$?
nsenter --mount="$NS" podman rm -f -t 0 vsb-exec >/dev/null 2>&1
lxc-stop -P "$LXCP" -n bb -k >/dev/null 2>&1
nsenter --mount="$NS" runc --root "$W/runc-state" delete -f vsb-exec-runc >/dev/null 2>&1
$LCRUN delete -f vsb-exec >/dev/null 2>&1
exit $rc
