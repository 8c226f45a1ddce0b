// Replacing this process with another program (execvp), which Bun and Node do not offer. Used
// where a step must run inside namespaces and then become the user's command, so that the
// command is the namespace's PID 1 and nothing of ours stays resident.
//
// A worker of the host service must not be replaced: its caller waits for the exit status it
// reports. There, "becoming" the program means running it on the same descriptors (the caller's),
// in the same process group (the caller's signals reach it), and exiting with its status.

import { ToolError } from "../errors";
import { libc } from "./libc";
import { signalNumber } from "./process";

let spawnInstead = false;

/** Called by a service worker before it runs a command. */
export function execBySpawning(): void {
  spawnInstead = true;
}

export function execvp(argv: string[]): never {
  if (spawnInstead) {
    let r;
    try {
      r = Bun.spawnSync(argv, { stdio: ["inherit", "inherit", "inherit"] });
    } catch {
      throw new ToolError(`cannot run ${argv[0]}: not found or not executable.`);
    }
    const sig = r.signalCode;
    process.exit(sig ? 128 + (typeof sig === "number" ? sig : signalNumber(sig)) : r.exitCode ?? 1);
  }
  const fn = libc().func("int execvp(const char *file, const char **argv)");
  fn(argv[0], [...argv, null]);
  throw new ToolError(`cannot run ${argv[0]}: not found or not executable.`);
}
