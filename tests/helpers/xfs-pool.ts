// A loop-backed XFS file system mounted as a test host's base of guest roots, so that unified
// guests (docs/unification.md) have storage that serves them. Removed in afterAll, even when
// tests failed: unmount (the loop device goes with it: autoclear) and the image file.

import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";

function sh(argv: string[]): void {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString().trim()}`);
}

export class XfsPool {
  readonly image: string;

  constructor(readonly mountPoint: string, sizeMiB = 512) {
    this.image = `${mountPoint.replace(/\/+$/, "")}.xfs-pool.img`;
    mkdirSync(mountPoint, { recursive: true });
    sh(["truncate", "-s", `${sizeMiB}M`, this.image]);
    sh(["mkfs.xfs", "-q", this.image]);
    sh(["mount", "-o", "loop", this.image, mountPoint]);
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
