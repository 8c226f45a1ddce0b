#!/bin/bash
# Figure 3, density (and figure 4, views, at its levels): busybox guests started up to each level
# of $DENSITY_LEVELS ($DENSITY_PAR at a time), memory per guest from the kernel's accounting after
# dropping caches, resident helper processes outside the guests; then all stopped and deleted and
# the host checked clean. The same levels with raw `crun run -d` containers of the same root and
# config. Views (vserver-stat, vps ax, ps ax) are taken at the levels of $VIEW_LEVELS.
source "$REPO/bench/lib.sh"
P=$DENSITY_PAR
now() { date +%s.%N; }
# par CMD: run CMD for each index on stdin, $P at a time; prints the number of failures, logs them
par() { xargs -P "$P" -I{} sh -c "$1 || echo FAIL {}" | tee -a "$RES/density-failures.txt" | grep -c FAIL; }
view_at() { for v in $VIEW_LEVELS; do [ "$v" = "$1" ] && { bash "$REPO/bench/views.sh" "$1" || return 1; }; done; return 0; }
vsrun() { nsenter --mount="$VR/run/vservers/.runtime/ns/cgroup-v1-view" crun --root "$VR/run/vservers/.runtime/crun" list 2>/dev/null | awk 'NR>1 && $3=="running"' | wc -l; }
crunrun() { $LCRUN list 2>/dev/null | awk 'NR>1 && $3=="running" && $1 ~ /^vsb-d/' | wc -l; }
ourmounts() { awk -v w="$W" 'index($0, w)' /proc/self/mountinfo | grep -v -e "$NS" -e "$W/rootfs" | wc -l; }

vs vserver bb stop >/dev/null 2>&1        # only the density guests run from here on
view_at 0 || exit 1

# ---- vserver ----
mem0=$(mem_used_kb); slab0=$(slab_kb); kern0=$(kern_kb); prev=0
for L in $DENSITY_LEVELS; do
  log "density: vserver guests $((prev + 1))..$L: build"
  t0=$(now); f=$(seq $((prev + 1)) "$L" | P=1 par "VSERVER_ROOT=$VR $B_BIN/vserver d{} build -m clone -q -- -s bb >/dev/null 2>>$RES/density-errors.txt"); t1=$(now)
  log "density: vserver start"
  t2=$(now); g=$(seq $((prev + 1)) "$L" | par "VSERVER_ROOT=$VR $B_BIN/vserver d{} start >/dev/null 2>>$RES/density-errors.txt"); t3=$(now)
  sleep 2
  cg=$(vs_cgroup_parent); used=$(mem_used_kb); slab=$(slab_kb); kern=$(kern_kb); mcg=$(memcg_kb "$cg"); kmem=$(memcg_kmem_kb "$cg")
  hl=$(helpers "$cg"); nh=$(printf '%s' "$hl" | grep -c .)
  record density "$(jq -nc --arg who vserver --argjson n "$L" --argjson new $((L - prev)) --arg build "$(echo "$t1 - $t0" | bc)" --arg start "$(echo "$t3 - $t2" | bc)" \
    --argjson fail $((f + g)) --argjson running "$(vsrun)" --argjson used $((used - mem0)) --argjson slab $((slab - slab0)) --argjson kern $((kern - kern0)) --argjson memcg "$mcg" --argjson kmem "$kmem" \
    --argjson helpers "$nh" --arg helper_list "$(echo $hl)" --argjson par "$P" \
    '{who:$who, n:$n, new:$new, build_s:($build|tonumber), start_s:($start|tonumber), fail:$fail, running:$running, used_kb:$used, slab_kb:$slab, kern_kb:$kern, memcg_kb:$memcg, kmem_kb:$kmem, helpers:$helpers, helper_list:$helper_list, par:$par}')"
  view_at "$L" || exit 1
  prev=$L
done
log "density: vserver stop, delete"
t0=$(now); f=$(seq 1 "$prev" | par "VSERVER_ROOT=$VR $B_BIN/vserver d{} stop >/dev/null 2>>$RES/density-errors.txt"); t1=$(now)
t2=$(now); g=$(seq 1 "$prev" | par "VSERVER_ROOT=$VR $B_BIN/vserver d{} delete --force >/dev/null 2>&1"); t3=$(now)
sleep 2
cgl=$(for h in /sys/fs/cgroup/*/; do [ -n "$cg" ] && [ -d "$h${cg#/}" ] && find "$h${cg#/}" -mindepth 1 -type d; done | wc -l)
record density "$(jq -nc --arg who vserver --argjson n "$prev" --arg stop "$(echo "$t1 - $t0" | bc)" --arg del "$(echo "$t3 - $t2" | bc)" --argjson fail $((f + g)) \
  --argjson left "$(ls -d "$VR"/vservers/d* 2>/dev/null | wc -l)" --argjson cgroups "$cgl" --argjson mounts "$(ourmounts)" --argjson procs "$(helpers | grep -c .)" \
  --argjson running "$(vsrun)" --argjson used $(( $(mem_used_kb) - mem0 )) \
  '{who:$who, phase:"teardown", n:$n, stop_s:($stop|tonumber), delete_s:($del|tonumber), fail:$fail, guests_left:$left, cgroups_left:$cgroups, mounts_left:$mounts, procs_left:$procs, running_left:$running, used_after_kb:$used}')"

# ---- raw crun, same root and config ----
mem0=$(mem_used_kb); slab0=$(slab_kb); kern0=$(kern_kb); prev=0
for L in $DENSITY_LEVELS; do
  log "density: crun containers $((prev + 1))..$L"
  t2=$(now); g=$(seq $((prev + 1)) "$L" | par "$(declare -f crun_run_d); LCRUN='$LCRUN' W='$W'; crun_run_d $W/crun-tmpl vsb-d{}"); t3=$(now)
  sleep 2
  used=$(mem_used_kb); slab=$(slab_kb); kern=$(kern_kb); mcg=$(memcg_kb /vsbench-crun); kmem=$(memcg_kmem_kb /vsbench-crun)
  hl=$(helpers /vsbench-crun); nh=$(printf '%s' "$hl" | grep -c .)
  record density "$(jq -nc --arg who crun --argjson n "$L" --argjson new $((L - prev)) --arg start "$(echo "$t3 - $t2" | bc)" \
    --argjson fail "$g" --argjson running "$(crunrun)" --argjson used $((used - mem0)) --argjson slab $((slab - slab0)) --argjson kern $((kern - kern0)) --argjson memcg "$mcg" --argjson kmem "$kmem" \
    --argjson helpers "$nh" --arg helper_list "$(echo $hl)" --argjson par "$P" \
    '{who:$who, n:$n, new:$new, start_s:($start|tonumber), fail:$fail, running:$running, used_kb:$used, slab_kb:$slab, kern_kb:$kern, memcg_kb:$memcg, kmem_kb:$kmem, helpers:$helpers, helper_list:$helper_list, par:$par}')"
  prev=$L
done
log "density: crun delete -f"
t2=$(now); g=$(seq 1 "$prev" | par "nsenter --mount=$NS crun --root $CRUN_ROOT delete -f vsb-d{} >/dev/null 2>&1"); t3=$(now)
sleep 2
for h in /sys/fs/cgroup/*/; do [ -d "$h/vsbench-crun" ] && rmdir "$h/vsbench-crun" 2>/dev/null; done   # crun leaves the parent
record density "$(jq -nc --arg who crun --argjson n "$prev" --arg del "$(echo "$t3 - $t2" | bc)" --argjson fail "$g" \
  --argjson cgroups "$(ls -d /sys/fs/cgroup/*/vsbench-crun 2>/dev/null | wc -l)" --argjson mounts "$(ourmounts)" --argjson running "$(crunrun)" --argjson used $(( $(mem_used_kb) - mem0 )) \
  '{who:$who, phase:"teardown", n:$n, delete_s:($del|tonumber), fail:$fail, cgroups_left:$cgroups, mounts_left:$mounts, running_left:$running, used_after_kb:$used}')"
rm -rf "$W/crun-b"/vsb-d*
