// A loop-backed XFS file system mounted as a test host's base of guest roots, so that unified
// guests (docs/unification.md) have storage that serves them (tests/helpers/loop-pool.ts).

import { LoopPool } from "./loop-pool";

export class XfsPool extends LoopPool {
  constructor(mountPoint: string, sizeMiB = 512) {
    super(mountPoint, "xfs", sizeMiB);
  }
}
