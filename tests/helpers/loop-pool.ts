// A loop-backed file system mounted as a test host's base of guest roots: XFS for unified guests
// (docs/unification.md), btrfs for disk limits (qgroups). Removed in afterAll, even when tests
// failed: unmount (the loop device goes with it: autoclear) and the image file.

import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";

function sh(argv: string[]): void {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString().trim()}`);
}

const MKFS: Record<string, string[]> = { xfs: ["mkfs.xfs", "-q"], btrfs: ["mkfs.btrfs", "-q", "-f"] };

export class LoopPool {
  readonly image: string;

  constructor(readonly mountPoint: string, fs: "xfs" | "btrfs", sizeMiB = 512) {
    this.image = `${mountPoint.replace(/\/+$/, "")}.${fs}-pool.img`;
    mkdirSync(mountPoint, { recursive: true });
    try {
      sh(["truncate", "-s", `${sizeMiB}M`, this.image]);
      sh([...MKFS[fs]!, this.image]);
      sh(["mount", "-o", "loop", this.image, mountPoint]);
    } catch (e) {
      this.remove();
      throw e;
    }
  }

  mounted(): boolean {
    return readFileSync("/proc/self/mountinfo", "utf8").split("\n").some((l) => l.split(" ")[4] === this.mountPoint);
  }

  remove(): void {
    for (let i = 0; i < 5 && this.mounted(); i++) Bun.spawnSync(["umount", this.mountPoint]);
    if (this.mounted()) Bun.spawnSync(["umount", "--lazy", this.mountPoint]);
    if (existsSync(this.image)) rmSync(this.image, { force: true });
  }
}
