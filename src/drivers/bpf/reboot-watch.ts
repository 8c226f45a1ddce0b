// The reboot watch (pure/bpf/reboot-watch-program.ts), kept by the kernel alone: its program is
// attached to a tracepoint through a link that is pinned, with its map, in a bpf file system of
// this installation's own (RUN/.bpf/fs). No process of ours stays behind to hold them; unmounting
// that file system (the tests' cleanup does) detaches the program.

import { closeSync, existsSync, mkdirSync, statfsSync } from "node:fs";
import type { Paths } from "../../pure/paths";
import { rebootWatchProgram } from "../../pure/bpf/reboot-watch-program";
import { assemble } from "../../pure/bpf/insn";
import { rebootWatchOffsets } from "./kernel-btf";
import { createMap, loadProgram, mapDelete, mapLookup, openPinned, openRawTracepoint, pinObject } from "./loader";
import { acquireLock } from "../lock";
import { runOk } from "../process";

const BPF_FS_MAGIC = 0xcafe4a11;
const BPF_MAP_TYPE_LRU_HASH = 9;
const BPF_PROG_TYPE_RAW_TRACEPOINT = 17;
/** Far more guests than one host runs; the oldest entries go first if it ever fills. */
const MAX_ENTRIES = 4096;

export function rebootWatchDir(paths: Paths): string {
  return `${paths.runDir}/.bpf/fs`;
}

function mapPath(paths: Paths): string {
  return `${rebootWatchDir(paths)}/reboots`;
}

function isBpfFs(dir: string): boolean {
  try {
    return statfsSync(dir).type === BPF_FS_MAGIC;
  } catch {
    return false;
  }
}

/**
 * Install the watch unless it is already there. Throws a ToolError when the kernel refuses (no
 * BTF, no raw tracepoints): the caller decides whether that matters.
 */
export async function ensureRebootWatch(paths: Paths): Promise<void> {
  const dir = rebootWatchDir(paths);
  if (isBpfFs(dir) && existsSync(mapPath(paths))) return;
  const lock = await acquireLock(paths.lockDir, ".reboot-watch", "the reboot watch", 60);
  try {
    if (!isBpfFs(dir)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      runOk(["mount", "-t", "bpf", "-o", "mode=0700", "vserver-bpf", dir], {}, `mounting a bpf file system on ${dir}`);
    }
    if (existsSync(mapPath(paths))) return;
    const offsets = rebootWatchOffsets();
    if (!offsets) throw new Error("the kernel has no BTF to find its process structures in");
    const fds: number[] = [];
    try {
      const map = createMap(BPF_MAP_TYPE_LRU_HASH, 4, 4, MAX_ENTRIES, "vs_reboots");
      fds.push(map);
      const prog = loadProgram({ name: "vs_reboot_watch", progType: BPF_PROG_TYPE_RAW_TRACEPOINT, attachType: 0, code: assemble(rebootWatchProgram(offsets, map)) });
      fds.push(prog);
      const link = openRawTracepoint(prog, "sched_process_exit");
      fds.push(link);
      // The link first: a map pinned without its program would be read as "no reboot" forever.
      pinObject(link, `${dir}/watch`);
      pinObject(map, mapPath(paths));
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  } finally {
    lock.release();
  }
}

/** The signal reboot(2) left for the guest whose PID 1 had this host PID (SIGHUP restart, SIGINT halt), taken out of the map. */
export function takeRebootSignal(paths: Paths, pid: number): number | undefined {
  if (!existsSync(mapPath(paths))) return undefined;
  const fd = openPinned(mapPath(paths));
  if (fd === undefined) return undefined;
  try {
    const key = Buffer.alloc(4);
    key.writeUInt32LE(pid);
    const v = mapLookup(fd, key, 4);
    if (!v) return undefined;
    mapDelete(fd, key);
    return v.readUInt32LE(0);
  } finally {
    closeSync(fd);
  }
}
