// A faithful copy of a tree with rsync(1), for `build -m rsync` and `build -m legacy`: owners by
// number, modes, hard links, ACLs, extended attributes (file capabilities among them), device
// nodes, sparse files, symlinks as symlinks (never followed), and no descent into other mounts.
// rsync rather than `cp -a` (which `clone` uses) because it takes include/exclude rules, which
// legacy needs to leave the host's secrets out and which the admin may add.

import { closeSync, existsSync, openSync, statSync, writeSync } from "node:fs";
import { NoSpaceError, ToolError, UsageError } from "../../errors";
import { isTerminal } from "../terminal";
import { lastLine, which } from "../process";

export const RSYNC_FLAGS = ["--archive", "--hard-links", "--acls", "--xattrs", "--sparse", "--numeric-ids", "--one-file-system"];

/** rsync's exit status for "some source files vanished before they could be copied". */
const VANISHED = 24;

export interface TreeCopy {
  /** What is copied, for messages: "guest 'web'", "the host's system". */
  what: string;
  src: string;
  dest: string;
  /** rsync filter arguments (--include=..., --exclude=...), in order. */
  filter: string[];
  /** The build log: the command line and rsync's own messages go there. */
  log: string;
  quiet: boolean;
}

/** rsync ends with a summary ("rsync error: some files/attrs were not transferred"): name the first cause instead. */
function firstProblem(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => !l.startsWith("rsync error:")) ?? lastLine(stderr);
}

export async function rsyncTree(c: TreeCopy): Promise<void> {
  if (!which("rsync")) throw new ToolError("rsync is not installed; run 'make' or 'apt-get install rsync'.");
  if (!existsSync(c.src) || !statSync(c.src).isDirectory()) throw new UsageError(`the source ${c.src} does not exist or is not a directory.`);
  const show = !c.quiet && isTerminal(1);
  const argv = ["rsync", ...RSYNC_FLAGS, ...(show ? ["--info=progress2"] : []), ...c.filter, `${c.src.replace(/\/+$/, "")}/`, `${c.dest}/`];
  const logFd = openSync(c.log, "a");
  try {
    writeSync(logFd, `$ ${argv.join(" ")}\n`);
    const child = Bun.spawn(argv, { stdin: "ignore", stdout: show ? "inherit" : logFd, stderr: "pipe" });
    const stderr = await new Response(child.stderr).text();
    const code = await child.exited;
    writeSync(logFd, stderr);
    if (code === 0 || code === VANISHED) return;
    if (/No space left on device|Disk quota exceeded/.test(stderr)) throw new NoSpaceError(`the build ran out of space writing ${c.dest}.`, { file: c.dest });
    throw new ToolError(`copying ${c.what} with rsync failed (exit status ${code}): ${firstProblem(stderr)} (full output in ${c.log}).`);
  } finally {
    closeSync(logFd);
  }
}
