#!/bin/bash
# Figure 2, start and stop: `vserver NAME start && vserver NAME stop` of a busybox guest (start
# returns with the guest's init up; through the host service, and run directly; in its own user
# namespace, the default, and without one), against crun run -d + delete -f of the same root and config,
# runc, lxc-start -d + lxc-stop -k, podman run -d + rm -f, systemd-nspawn (start to exit of
# /bin/true), and the namespace floor. Every row runs through `sh -c` so all pay the same shell.
source "$REPO/bench/lib.sh"
# bb keeps running, so our runtime view stays (the usual case on a host with guests); the second
# vserver row stops bb first, so that each start makes the view and each stop releases it.
vs vserver ss build -m clone -q -- -s bb >/dev/null || exit 1
# The same guest without a user namespace of its own (security/privileged): what the default
# user namespace costs (issue 13) is the difference between the first row and this one.
vs vserver sp build -m clone -q -- -s bb >/dev/null || exit 1
mkdir -p "$VR/etc/vservers/sp/security" && : > "$VR/etc/vservers/sp/security/privileged"
mkdir -p "$W/crun-b/vsb-ss"
sed 's,/vsbench-crun/ID,/vsbench-crun/vsb-ss,' "$W/crun-tmpl/config.json.tmpl" > "$W/crun-b/vsb-ss/config.json"
mkdir -p "$W/runc-b/vsb-ss"
sed 's,/vsbench-crun/ID,/vsbench-crun/vsb-ss-runc,' "$W/runc-tmpl/config.json.tmpl" > "$W/runc-b/vsb-ss/config.json"
Q='</dev/null >/dev/null 2>&1'
rows=(
  -n 'vserver start + stop' "sh -c '$B_BIN/vserver ss start >/dev/null && $B_BIN/vserver ss stop >/dev/null'"
  -n 'vserver start + stop, privileged guest (no user namespace)' "sh -c '$B_BIN/vserver sp start >/dev/null && $B_BIN/vserver sp stop >/dev/null'"
  -n 'vserver start + stop, without the service (VSERVER_SERVICE=off)' "sh -c 'VSERVER_SERVICE=off $B_BIN/vserver ss start >/dev/null && VSERVER_SERVICE=off $B_BIN/vserver ss stop >/dev/null'"
  -n 'crun run -d + delete -f (nsenter to its view)' "sh -c 'nsenter --mount=$NS crun --root $CRUN_ROOT run -d --bundle $W/crun-b/vsb-ss vsb-ss $Q && nsenter --mount=$NS crun --root $CRUN_ROOT delete -f vsb-ss'"
  -n 'runc run -d + delete -f (no user namespace)' "sh -c 'nsenter --mount=$NS runc --root $W/runc-state run -d --bundle $W/runc-b/vsb-ss vsb-ss-runc $Q && nsenter --mount=$NS runc --root $W/runc-state delete -f vsb-ss-runc'"
  -n 'podman run -d + rm -f' "sh -c 'nsenter --mount=$NS podman run -d --name vsb-ss $PODMAN_FLAGS --rootfs $W/rootfs /bin/sleep 2147483647 >/dev/null && nsenter --mount=$NS podman rm -f -t 0 vsb-ss >/dev/null'"
  -n 'systemd-nspawn /bin/true' "sh -c 'systemd-nspawn -D $W/rootfs --quiet --register=no --keep-unit --private-network /bin/true 2>/dev/null'"
  -n 'floor: unshare -p -f -m -u -i -n --mount-proc true' "sh -c 'unshare -p -f -m -u -i -n --mount-proc true'"
)
lxc-info -P "$LXCP" -n bb >/dev/null 2>&1 && rows+=(-n 'lxc-start -d + lxc-stop -k' "sh -c 'lxc-start -P $LXCP -n bb -d && lxc-stop -P $LXCP -n bb -k'")
hf startstop all "$RUNS_SLOW" "${rows[@]}"; rc=$?
vs vserver bb stop >/dev/null 2>&1
hf startstop alone "$RUNS_SLOW" -n 'vserver start + stop, the only guest (view made and released)' "sh -c '$B_BIN/vserver ss start >/dev/null && $B_BIN/vserver ss stop >/dev/null'" || rc=1
vs vserver ss delete --force >/dev/null 2>&1
vs vserver sp delete --force >/dev/null 2>&1
vs vserver bb start >/dev/null
exit $rc
