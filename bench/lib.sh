# Shared helpers for the benchmark scripts; sourced by bench/run and every figure script.
# Variables set by bench/run (exported): REPO W VR RES QUICK ROUNDS NS CRUN_ROOT LXCP

B_BIN="$REPO/bin"
BUN="$REPO/node_modules/.bin/bun"
# Our own crun view (baselines.md §7 A): crun 1.8 refuses the hybrid host unless cgroup2 is hidden.
LCRUN="nsenter --mount=$NS crun --root $CRUN_ROOT"
PODMAN_FLAGS="--network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096"

log() { printf '[bench %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# vs ARGS...: a vserver command on the bench's own state root (the bench shell never exports it).
vs() { VSERVER_ROOT="$VR" "$B_BIN/$@"; }

# hf FIGURE TAG RUNS [hyperfine args...]: one hyperfine call per round, JSON into $RES.
# The environment carries VSERVER_ROOT for the commands hyperfine runs (and only for them).
hf() {
  local fig=$1 tag=$2 runs=$3; shift 3
  local r a
  { printf 'hyperfine -N --warmup %s --runs %s' "${WARMUP:-2}" "$runs"; for a in "$@"; do printf " %q" "$a"; done; echo; } > "$RES/$fig.$tag.cmd"
  for ((r = 1; r <= ROUNDS; r++)); do
    VSERVER_ROOT="$VR" hyperfine -N --warmup "${WARMUP:-2}" --runs "$runs" --style none --export-json "$RES/$fig.$tag.r$r.json" "$@" >/dev/null \
      || { log "hyperfine failed in $fig/$tag round $r"; hf_explain "$@"; return 1; }
  done
}

# Which row of a failed hyperfine call fails, and what it says: each row once, with its output.
hf_explain() {
  local name cmd out
  while [ $# -ge 3 ] && [ "$1" = -n ]; do
    name=$2 cmd=$3; shift 3
    out=$(VSERVER_ROOT="$VR" bash -c "$cmd" 2>&1 </dev/null) || log "  row '$name' fails: $(printf '%s' "$out" | tail -3 | tr '\n' ' ')"
  done
}

# record FIGURE JSON-OBJECT: one custom result line (density, memory, cleanliness).
record() { printf '%s\n' "$2" >> "$RES/$1.jsonl"; }

# Kernel memory accounting after dropping caches: MemTotal - MemAvailable, Slab, in KiB.
mem_used_kb() {
  sync; echo 3 > /proc/sys/vm/drop_caches; sleep 1
  awk '/^MemTotal:/{t=$2} /^MemAvailable:/{a=$2} END{print t-a}' /proc/meminfo
}
slab_kb() { awk '/^Slab:/{print $2}' /proc/meminfo; }
# Kernel memory: Slab + PageTables + KernelStack (KiB); read after mem_used_kb has dropped caches.
kern_kb() { awk '/^(Slab|PageTables|KernelStack):/{s+=$2} END{print s}' /proc/meminfo; }

# Sum of memory.usage_in_bytes of a v1 memory cgroup (hierarchical), in KiB; 0 when absent.
memcg_kb() { local f="/sys/fs/cgroup/memory/$1/memory.usage_in_bytes"; [ -r "$f" ] && echo $(($(cat "$f") / 1024)) || echo 0; }
memcg_kmem_kb() { local f="/sys/fs/cgroup/memory/$1/memory.kmem.usage_in_bytes"; [ -r "$f" ] && echo $(($(cat "$f") / 1024)) || echo 0; }

# Processes that belong to this benchmark and live OUTSIDE the given cgroup prefixes (memory
# hierarchy): the resident helpers. A process is ours when its command line or environment names
# $VR or $W. Arguments: cgroup prefixes (e.g. /vservers-abcd /vsbench-crun).
helpers() {
  local f pid cg p inside
  for f in $({ grep -lsaF -e "$VR" -e "$W/" /proc/[0-9]*/cmdline; grep -lsaF "VSERVER_ROOT=$VR" /proc/[0-9]*/environ; } 2>/dev/null | sort -u); do
    pid=${f#/proc/}; pid=${pid%%/*}
    [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ] && continue
    cg=$(awk -F: '$2=="memory"{print $3}' /proc/$pid/cgroup 2>/dev/null) || continue
    [ -n "$cg" ] || continue
    inside=0; for p in "$@"; do [[ "$cg" == "$p"/* || "$cg" == "$p" ]] && inside=1; done
    [ $inside = 1 ] && continue
    echo "$pid:$(cat /proc/$pid/comm 2>/dev/null)"
  done | sort -u -t: -k1,1
}

# The cgroup parent of this state root's guests (from a bundle our start wrote).
vs_cgroup_parent() {
  local f; f=$(ls "$VR"/run/vservers/.bundles/*/config.json 2>/dev/null | head -1)
  [ -n "$f" ] && jq -r '.linux.cgroupsPath' "$f" | sed 's,/[^/]*$,,'
}

# A raw-crun bundle: our guest's config, the same root, its own id and cgroup parent /vsbench-crun.
make_crun_bundle() { # SRC_CONFIG DIR
  mkdir -p "$2"
  jq '.hostname="vsb" | .linux.cgroupsPath="/vsbench-crun/ID" | .process.env |= map(select(startswith("VSERVER_")|not))' "$1" > "$2/config.json.tmpl"
}
crun_run_d() { # BUNDLE_TMPL_DIR ID: a per-id bundle (cgroupsPath differs), then crun run -d
  local d="$W/crun-b/$2"; mkdir -p "$d"
  sed "s,/vsbench-crun/ID,/vsbench-crun/$2," "$1/config.json.tmpl" > "$d/config.json"
  $LCRUN run -d --bundle "$d" "$2" </dev/null >/dev/null 2>&1
}
