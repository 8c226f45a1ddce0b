// What happens to a guest without any host command: its PID 1 ends (a crash, or a halt from
// inside), it reboots itself in place, or the kernel's OOM killer kills one of its processes.
// Nothing on the host waits for these (no per-guest process, docs/architecture.md), so while
// the service runs it looks every few seconds and journals what it sees: a guest whose PID 1
// ended is settled through the control plane (which journals `exit`), a reboot line of the
// guest init in the guest's log becomes a `reboot` event, a rise of the guest's cgroup
// `oom_kill` counter an `oom` event, and forks its process limit refused a `limit-hit` event. The journal is where the events live; the API only reads it.

import { openSync, readSync, closeSync, fstatSync, readFileSync } from "node:fs";
import { allRunRecords, isAlive, type RunRecord } from "../../drivers/run-state";
import { cgroupHost, hierarchyFor } from "../../drivers/cgroup/hierarchies";
import { record } from "../../drivers/journal";
import type { Paths } from "../../pure/paths";

/** The line guest-init.c writes to the guest's log when the guest asked to reboot. */
const REBOOT_LINE = "=== vserver-init: restarting the guest";

/** How often the guest's processes were refused a fork by its pids limit (pids.events, v1 and v2). */
function pidsLimitHits(rec: RunRecord): number | undefined {
  const h = hierarchyFor(cgroupHost(), "pids");
  if (!h) return undefined;
  try {
    const m = /^max (\d+)$/m.exec(readFileSync(`${h.mount}${rec.cgroupPath}/pids.events`, "latin1"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function oomKills(rec: RunRecord): number | undefined {
  const h = hierarchyFor(cgroupHost(), "memory");
  if (!h) return undefined;
  const file = h.version === 2 ? "memory.events" : "memory.oom_control";
  try {
    const m = /^oom_kill (\d+)$/m.exec(readFileSync(`${h.mount}${rec.cgroupPath}/${file}`, "latin1"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Bytes of a file from an offset; the offset starts again at 0 when the file was rotated. */
function newText(file: string, from: number): { text: string; size: number } {
  let fd;
  try {
    fd = openSync(file, "r");
  } catch {
    return { text: "", size: 0 };
  }
  try {
    const size = fstatSync(fd).size;
    const start = from > size ? 0 : from;
    const b = Buffer.alloc(Math.min(size - start, 1 << 20));
    const n = b.length ? readSync(fd, b, 0, b.length, start) : 0;
    return { text: b.subarray(0, n).toString("latin1"), size: start + n };
  } finally {
    closeSync(fd);
  }
}

interface Seen {
  pidStart: string;
  oom?: number;
  pidsMax?: number;
  logSize: number;
}

export function watchGuestStates(paths: Paths, settle: () => Promise<void>, everyMs = 2000): { stop(): void } {
  const seen = new Map<string, Seen>();
  let settling = false;
  const look = () => {
    const recs = allRunRecords(paths);
    let ended = false;
    for (const rec of recs) {
      if (!isAlive(rec)) {
        ended = true;
        continue;
      }
      const prev = seen.get(rec.name);
      const oom = oomKills(rec);
      const pidsMax = pidsLimitHits(rec);
      if (!prev || prev.pidStart !== rec.pidStart) {
        // A guest first seen (or started again): what happened before is the baseline.
        seen.set(rec.name, { pidStart: rec.pidStart, oom, pidsMax, logSize: newText(rec.log, Number.MAX_SAFE_INTEGER).size });
        continue;
      }
      const by = { caller: { uid: 0, via: "guest" } };
      if (oom !== undefined && prev.oom !== undefined && oom > prev.oom) {
        record(paths.logDir, { op: "oom", guest: rec.name, context: rec.context, ok: true, kills: oom - prev.oom, ...by });
      }
      prev.oom = oom;
      if (pidsMax !== undefined && prev.pidsMax !== undefined && pidsMax > prev.pidsMax) {
        record(paths.logDir, { op: "limit-hit", guest: rec.name, context: rec.context, ok: true, resource: "nproc", refused: pidsMax - prev.pidsMax, ...by });
      }
      prev.pidsMax = pidsMax;
      const t = newText(rec.log, prev.logSize);
      prev.logSize = t.size;
      const reboots = t.text.split("\n").filter((l) => l.startsWith(REBOOT_LINE)).length;
      for (let i = 0; i < reboots; i++) record(paths.logDir, { op: "reboot", guest: rec.name, context: rec.context, ok: true, how: "inside", ...by });
    }
    for (const name of seen.keys()) if (!recs.some((r) => r.name === name)) seen.delete(name);
    if (ended && !settling) {
      settling = true;
      settle().finally(() => (settling = false));
    }
  };
  const timer = setInterval(() => {
    try {
      look();
    } catch {}
  }, everyMs);
  return { stop: () => clearInterval(timer) };
}
