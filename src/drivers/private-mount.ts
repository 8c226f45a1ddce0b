// A directory that will hold nsfs bind mounts (namespace files) must not sit on a shared mount:
// the kernel refuses such binds there, and on systemd hosts `/` is shared. Like `ip netns` does for
// /run/netns, the directory is then bound onto itself and made private; the extra mount goes again
// when the directory is empty.

import { readdirSync, readFileSync } from "node:fs";
import { run, runOk } from "./process";

interface MountLine {
  point: string;
  shared: boolean;
}

function mounts(): MountLine[] {
  return readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(Boolean).map((l) => {
    const f = l.split(" ");
    const sep = f.indexOf("-");
    return { point: (f[4] ?? "").replace(/\\040/g, " "), shared: f.slice(6, sep).some((o) => o.startsWith("shared:")) };
  });
}

/** The mount a path lives on: the longest mount point that is a prefix of it. */
function containing(path: string, all: MountLine[]): MountLine | undefined {
  let best: MountLine | undefined;
  for (const m of all) {
    const p = m.point === "/" ? "/" : m.point + "/";
    if ((path + "/").startsWith(p) && (!best || m.point.length >= best.point.length)) best = m;
  }
  return best;
}

export function ensurePrivateMount(dir: string): void {
  const all = mounts();
  if (all.some((m) => m.point === dir)) return;
  if (!containing(dir, all)?.shared) return;
  runOk(["mount", "--bind", dir, dir], {}, `making ${dir} a mount of its own`);
  runOk(["mount", "--make-private", dir], {}, `making ${dir} a private mount`);
}

/** Undo ensurePrivateMount once nothing is left in the directory. */
export function releasePrivateMount(dir: string): void {
  try {
    if (readdirSync(dir).length) return;
  } catch {
    return;
  }
  if (mounts().some((m) => m.point === dir)) run(["umount", dir]);
}
