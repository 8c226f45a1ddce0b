// Relaying a command's standard descriptors through pipes of ours, for those that must not be
// handed into a guest (drivers/stdio.ts says which: a host file, the admin's terminal). The
// command gets a pipe's end instead, and a `cat` of ours copies between that pipe and our own
// descriptor. Both ways into a guest (its init, and the runtime's exec) use this one relay.
//
// Why a process and not our event loop: a copy must never block the loop that waits for the
// command's status (a command that fills its stdout while we write its stdin would deadlock us),
// koffi's asynchronous calls take threads of a pool no bigger than the core count (the exec client
// already holds one), and Bun's FileSink on a descriptor number duplicates it without closing the
// duplicate, so the command would never see end of file. `cat` blocks on its own, ends at end of
// file, and gives the guest's command the same SIGPIPE a shell pipeline would.

import type { Subprocess } from "bun";
import { closeSync, fstatSync } from "node:fs";
import { ToolError } from "../errors";
import { libc } from "./libc";
const O_CLOEXEC = 0o2000000;

function makePipe(): [read: number, write: number] {
  const b = Buffer.alloc(8);
  const pipe2 = libc().func("int pipe2(void *, int)");
  if ((pipe2(b, O_CLOEXEC) as number) !== 0) throw new ToolError(`cannot make a pipe to relay a standard descriptor (errno ${libc().errno()}).`);
  return [b.readInt32LE(0), b.readInt32LE(4)];
}

function closeQuietly(fd: number | undefined): void {
  if (fd === undefined) return;
  try {
    closeSync(fd);
  } catch {}
}

export class StdioRelay {
  /** What the command gets as its stdin, stdout and stderr: ours as they are, or a pipe's end. */
  readonly fds: [number, number, number] = [0, 1, 2];
  /** Our end of each relayed descriptor's pipe, until a copier has it. */
  private ours: (number | undefined)[] = [undefined, undefined, undefined];
  private theirs: (number | undefined)[] = [undefined, undefined, undefined];
  private input?: Subprocess;
  private outputs: Subprocess[] = [];

  /** `relay[i]`: descriptor i goes through a pipe. */
  constructor(relay: boolean[]) {
    relay.forEach((r, i) => {
      if (!r) return;
      const [rd, wr] = makePipe();
      // stdin: the command reads the pipe; stdout and stderr: it writes it.
      this.theirs[i] = i === 0 ? rd : wr;
      this.ours[i] = i === 0 ? wr : rd;
      this.fds[i as 0 | 1 | 2] = this.theirs[i]!;
    });
  }

  /**
   * The command has its ends (sent to the guest's init, or given to a child at spawn): close ours
   * of them, so that its exit is our end of file, and start copying. Called only once the command
   * runs, so no input is consumed for a command that never started.
   */
  start(): void {
    for (let i = 0; i < 3; i++) {
      closeQuietly(this.theirs[i]);
      this.theirs[i] = undefined;
    }
    // A descriptor of ours that is closed gives the command end of file, or takes its output away.
    const ownOrNull = (fd: number) => (isOpen(fd) ? fd : "ignore");
    if (this.ours[0] !== undefined) {
      this.input = Bun.spawn(["cat"], { stdin: ownOrNull(0), stdout: this.ours[0], stderr: "ignore" });
    }
    for (const i of [1, 2]) {
      if (this.ours[i] !== undefined) this.outputs.push(Bun.spawn(["cat"], { stdin: this.ours[i], stdout: ownOrNull(i), stderr: "ignore" }));
    }
    for (const fd of this.ours) closeQuietly(fd);
    this.ours = [undefined, undefined, undefined];
  }

  /** The command's output, all of it: resolves when every output copier has reached end of file. */
  async drained(): Promise<void> {
    await Promise.all(this.outputs.map((p) => p.exited));
  }

  /** Close whatever is still open, and stop copying our stdin to a command that has ended. */
  close(): void {
    for (let i = 0; i < 3; i++) {
      closeQuietly(this.theirs[i]);
      closeQuietly(this.ours[i]);
    }
    this.theirs = [undefined, undefined, undefined];
    this.ours = [undefined, undefined, undefined];
    if (this.input && this.input.exitCode === null) this.input.kill("SIGKILL");
  }
}

/** Is fd one of ours (a closed standard descriptor gives a copier nothing to read or write)? */
export function isOpen(fd: number): boolean {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
}
