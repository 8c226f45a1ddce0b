// Replacing this process with another program (execvp), which Bun and Node do not offer. Used
// where a step must run inside namespaces and then become the user's command, so that the
// command is the namespace's PID 1 and nothing of ours stays resident.

import { ToolError } from "../errors";
import { libc } from "./libc";

export function execvp(argv: string[]): never {
  const fn = libc().func("int execvp(const char *file, const char **argv)");
  fn(argv[0], [...argv, null]);
  throw new ToolError(`cannot run ${argv[0]}: not found or not executable.`);
}
